from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "binome.api"
    label = "api"
    verbose_name = "API des partenaires"
