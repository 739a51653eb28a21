from django.conf import settings


def client_address(request):
    """
    The client's address: from the proxy's header when CLIENT_IP_HEADER names one
    (the rate limit and login throttling trust nothing else), else the connection's.
    """
    if header := settings.CLIENT_IP_HEADER:
        meta_key = "HTTP_" + header.upper().replace("-", "_")
        # The proxy appends the address it saw; earlier entries are the client's claims.
        if forwarded := request.META.get(meta_key, "").split(",")[-1].strip():
            return forwarded
    return request.META.get("REMOTE_ADDR", "")
