from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from pages.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path(settings.ADMIN_PATH, admin.site.urls),
    path("", include("bookings.urls")),
    path("", include("pages.urls")),
    *static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT),
]
