from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Roswell Infusions: site administration"
admin.site.site_title = "Roswell Infusions admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("bookings.urls")),
    path("", include("pages.urls")),
    *static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT),
]
