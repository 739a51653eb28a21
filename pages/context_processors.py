from django.utils.functional import SimpleLazyObject

from .models import ClinicDetails, Page


def site_chrome(request):
    """The clinic's details and the menu, loaded only by templates that use them."""
    return {
        "clinic": SimpleLazyObject(ClinicDetails.load),
        "navigation_pages": SimpleLazyObject(
            lambda: list(Page.objects.in_navigation())
        ),
    }
