from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "binome.retention"
    label = "retention"
    verbose_name = "Durées de conservation et droits des personnes"
