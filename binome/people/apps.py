from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "binome.people"
    label = "people"
    verbose_name = "Personnes accompagnées"

    def ready(self) -> None:
        from binome.people import crypto

        crypto.check_keys()  # a wrong key configuration stops the start with a clear message
