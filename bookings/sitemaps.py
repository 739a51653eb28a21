from django.urls import reverse

from pages.sitemaps import PublicSiteSitemap


class ConsultationSitemap(PublicSiteSitemap):
    def items(self):
        return ["bookings:request"]

    def location(self, url_name):
        return reverse(url_name)
