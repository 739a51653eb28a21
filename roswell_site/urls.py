from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from bookings.sitemaps import ConsultationSitemap
from pages.sitemaps import ArticleListSitemap, ArticleSitemap, PageSitemap, TopicSitemap
from pages.views import healthz

sitemaps = {
    "pages": PageSitemap,
    "article-list": ArticleListSitemap,
    "articles": ArticleSitemap,
    "topics": TopicSitemap,
    "consultation": ConsultationSitemap,
}

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # Before the admin, whose catch-all view would answer these addresses.
    path(f"{settings.ADMIN_PATH}passkeys/", include("staff_mfa.passkey_urls")),
    path(settings.ADMIN_PATH, admin.site.urls),
    path("sitemap.xml", sitemap, {"sitemaps": sitemaps}, name="sitemap"),
    path("", include("bookings.urls")),
    path("", include("pages.urls")),
    *static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT),
]
