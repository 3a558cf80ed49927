"""The person's file pages under ``/personnes/``, URL namespace ``people``: the person is
``binome.people``'s model, her file's pages are support's (they show her accompaniments,
team and timeline)."""

from django.urls import path

from binome.support import duplicates_views
from binome.support import person_views as views

app_name = "people"
urlpatterns = [
    path("nouvelle/", views.person_create, name="create"),
    path("<int:pk>/", views.person_detail, name="detail"),
    path("<int:pk>/modifier/", views.person_edit, name="edit"),
    path("<int:pk>/foyer/ajouter/", views.household_add, name="household_add"),
    path(
        "<int:pk>/foyer/<int:member_pk>/modifier/",
        views.household_edit,
        name="household_edit",
    ),
    path(
        "<int:pk>/foyer/<int:member_pk>/retirer/",
        views.household_remove,
        name="household_remove",
    ),
    path("<int:pk>/consentements/ajouter/", views.consent_add, name="consent_add"),
    path(
        "<int:pk>/consentements/<int:consent_pk>/retirer/",
        views.consent_withdraw,
        name="consent_withdraw",
    ),
    path(
        "<int:pk>/consentements/<int:consent_pk>/document/",
        views.consent_document,
        name="consent_document",
    ),
    path("<int:pk>/contrat-engagement.pdf", views.engagement_pdf, name="engagement_pdf"),
]

# Territory administrators: duplicates of the département and their merge.
urlpatterns += [
    path("doublons/<str:code>/", duplicates_views.duplicates, name="duplicates"),
    path(
        "doublons/<str:code>/fusionner/<int:first>/<int:second>/",
        duplicates_views.merge,
        name="merge",
    ),
]
