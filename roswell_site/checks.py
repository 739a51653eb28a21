from django.conf import settings
from django.core import checks


def check_client_address_behind_proxy(app_configs, **kwargs):
    """
    Behind a proxy every connection comes from the proxy, so without its header
    all clients share one address: one busy client would use up the rate limit
    and lock the admin login for everyone.
    """
    if settings.BEHIND_PROXY and not settings.CLIENT_IP_HEADER:
        return [
            checks.Warning(
                "DJANGO_BEHIND_PROXY is on but DJANGO_CLIENT_IP_HEADER is not set, "
                "so every client has the proxy's address.",
                hint="Set DJANGO_CLIENT_IP_HEADER to the header in which the proxy "
                "passes the client's address (X-Real-IP with deploy/nginx).",
                id="roswell_site.W001",
            )
        ]
    return []
