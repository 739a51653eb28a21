from django.apps import AppConfig


class PagesConfig(AppConfig):
    name = "pages"
    verbose_name = "Articles and pages"

    def ready(self):
        from .caching import connect_content_signals

        connect_content_signals()
