"""A public page whose template uses the CSP nonce, for tests/pages/test_caching.py."""

from django.http import HttpResponse
from django.template import engines
from django.urls import path

from pages.caching import public_page

TEMPLATE = engines["django"].from_string(
    '<script nonce="{{ csp_nonce }}">document.title = "Inline";</script>'
)


@public_page
def page_with_inline_script(request):
    return HttpResponse(TEMPLATE.render({}, request))


urlpatterns = [path("inline/", page_with_inline_script)]
