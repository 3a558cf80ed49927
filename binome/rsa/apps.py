from django.apps import AppConfig


class RsaConfig(AppConfig):
    name = "binome.rsa"
    label = "rsa"
    verbose_name = "RSA"
