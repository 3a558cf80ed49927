from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "binome.access"
    label = "access"
    verbose_name = "Accès et journal d'audit"

    def ready(self) -> None:
        from binome.access import signals  # noqa: F401 - connects the audit receivers
