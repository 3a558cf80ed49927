from django.apps import AppConfig


class SteeringConfig(AppConfig):
    name = "binome.steering"
    label = "steering"
    verbose_name = "Pilotage du territoire"
