from django.utils.functional import SimpleLazyObject

from .models import ClinicDetails, Page
from .seo import absolute_url, canonical_path


def site_chrome(request):
    """The clinic's details and the menu, loaded only by templates that use them."""
    return {
        "clinic": SimpleLazyObject(ClinicDetails.load),
        "navigation_pages": SimpleLazyObject(
            lambda: list(Page.objects.in_navigation())
        ),
        "canonical_url": absolute_url(canonical_path(request)),
    }
