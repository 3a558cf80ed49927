from django.apps import AppConfig


class SiteConfig(AppConfig):
    """The top floor: the home page, the demo territory, the generators, the context
    processors. It may import every app; no app imports it."""

    name = "binome.site"
    label = "site"
    verbose_name = "Site"
