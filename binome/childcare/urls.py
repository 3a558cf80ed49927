from django.urls import path

from binome.childcare import views

app_name = "childcare"
urlpatterns = [
    path("accueils/", views.providers_home, name="providers_home"),
    path("accueils/<int:organisation_id>/", views.provider_places, name="provider_places"),
    path(
        "accueils/<int:organisation_id>/modifier/",
        views.provider_edit,
        name="provider_edit",
    ),
    path(
        "accueils/<int:organisation_id>/confirmer/",
        views.provider_confirm,
        name="provider_confirm",
    ),
    path("personnes/<int:pk>/demande/", views.request_create, name="request_create"),
    path("personnes/<int:pk>/section/", views.file_section, name="file_section"),
    path("demandes/<int:pk>/", views.request_detail, name="request_detail"),
    path("demandes/<int:pk>/retirer/", views.request_withdraw, name="request_withdraw"),
    path("sollicitations/<int:pk>/", views.solicitation, name="solicitation"),
    path(
        "sollicitations/<int:pk>/accepter/",
        views.solicitation_accept,
        name="solicitation_accept",
    ),
    path(
        "sollicitations/<int:pk>/refuser/",
        views.solicitation_decline,
        name="solicitation_decline",
    ),
    path(
        "accueils-en-cours/<int:pk>/renouveler/",
        views.placement_renew,
        name="placement_renew",
    ),
    path("accueils-en-cours/<int:pk>/terminer/", views.placement_end, name="placement_end"),
    path(
        "accueils-en-cours/<int:pk>/situation-6-mois/",
        views.placement_followup,
        name="placement_followup",
    ),
    path("coordination/", views.coordination_inbox, name="coordination_inbox"),
    path(
        "coordination/reglages/<str:code>/",
        views.childcare_settings,
        name="settings",
    ),
    path("coordination/chiffres/", views.figures_page, name="figures"),
    path("coordination/<int:pk>/", views.coordination, name="coordination"),
]
