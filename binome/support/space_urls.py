"""The accompanied person's own space under ``/mon-espace/``, URL namespace ``space``."""

from django.urls import path

from binome.support import space_views as views

app_name = "space"
urlpatterns = [
    path("", views.home, name="home"),
    path(
        "consentements/<int:consent_pk>/retirer/",
        views.consent_withdraw,
        name="consent_withdraw",
    ),
    path("contrat-engagement.pdf", views.engagement_pdf, name="engagement_pdf"),
]
