from django.apps import AppConfig


class ChildcareConfig(AppConfig):
    name = "binome.childcare"
    label = "childcare"
    verbose_name = "Garde d'enfants (AVIP)"
