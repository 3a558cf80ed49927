from django.urls import path

from binome.referrals import views

app_name = "referrals"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("attribuer/", views.assign, name="assign"),
    path("envoyees/", views.sent, name="sent"),
    path("compteur/", views.inbox_badge, name="inbox_badge"),
    path("nouvelle-personne/", views.create_person, name="create_person"),
    path("personnes/<int:pk>/orienter/", views.create, name="create"),
    path(
        "services/<int:service_pk>/orienter/",
        views.create_for_service,
        name="create_for_service",
    ),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/accepter/", views.accept, name="accept"),
    path("<int:pk>/refuser/", views.decline, name="decline"),
    path("<int:pk>/retirer/", views.withdraw, name="withdraw"),
    path("<int:pk>/relancer/", views.nudge, name="nudge"),
    path("<int:pk>/suite/", views.outcome, name="outcome"),
    path("<int:pk>/reorienter/", views.reorient, name="reorient"),
    path("<int:pk>/pieces-jointes/<int:attachment_pk>/", views.attachment, name="attachment"),
    path("territoires/<str:code>/reorientations/", views.reorientations, name="reorientations"),
    path("territoires/<str:code>/reglages/", views.territory_settings, name="settings"),
    path(
        "territoires/<str:code>/partenaires/<int:partner_pk>/retirer/",
        views.partner_remove,
        name="partner_remove",
    ),
]
