from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "binome.directory"
    label = "directory"
    verbose_name = "Base de ressources sociales"
