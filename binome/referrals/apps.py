from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "binome.referrals"
    label = "referrals"
    verbose_name = "Orientations"
