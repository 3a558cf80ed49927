from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "binome.support"
    label = "support"
    verbose_name = "Accompagnements"
