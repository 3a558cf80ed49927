from django.urls import path

from binome.support import fse_views, plan_urls, territory_views, views

app_name = "support"
urlpatterns = [
    path("mes-personnes/", views.worklist, name="worklist"),
    path("personnes/<int:pk>/rejoindre/", views.join, name="join"),
    path("equipes/demandes/", views.join_requests, name="join_requests"),
    path(
        "equipes/demandes/<int:pk>/reponse/",
        views.join_request_decide,
        name="join_request_decide",
    ),
    path("accompagnements/<int:pk>/inviter/", views.team_invite, name="team_invite"),
    path(
        "personnes/<int:pk>/accompagnements/ouvrir/",
        views.accompaniment_open,
        name="accompaniment_open",
    ),
    path("personnes/<int:pk>/notes/ajouter/", views.note_add, name="note_add"),
    path("personnes/<int:pk>/rendez-vous/ajouter/", views.appointment_add, name="appointment_add"),
    path(
        "accompagnements/<int:pk>/etat/",
        views.accompaniment_transition,
        name="accompaniment_transition",
    ),
    path(
        "accompagnements/<int:pk>/decision/",
        views.accompaniment_decide,
        name="accompaniment_decide",
    ),
    path(
        "accompagnements/<int:pk>/prolonger/",
        views.accompaniment_extend,
        name="accompaniment_extend",
    ),
    path("accompagnements/<int:pk>/sortie/", views.accompaniment_exit, name="accompaniment_exit"),
    path("accompagnements/<int:pk>/quitter/", views.team_leave, name="team_leave"),
    path("accompagnements/<int:pk>/referent/", views.team_referent, name="team_referent"),
    path("accompagnements/<int:pk>/roles/", views.team_role, name="team_role"),
    path(
        "accompagnements/<int:pk>/situation-6-mois/",
        views.accompaniment_followup,
        name="accompaniment_followup",
    ),
    path(
        "accompagnements/<int:pk>/fse/<slug:stage>/",
        fse_views.fse_stage,
        name="accompaniment_fse",
    ),
    path("notes/<int:pk>/", views.note_detail, name="note_detail"),
    path(
        "territoires/<str:code>/accompagnement-global/",
        territory_views.support_settings,
        name="settings",
    ),
    path(
        "territoires/<str:code>/sorties/",
        territory_views.territory_exits,
        name="territory_exits",
    ),
    path(
        "organisations/<int:pk>/sorties/",
        territory_views.organisation_exits,
        name="organisation_exits",
    ),
    path("rendez-vous/<int:pk>/statut/", views.appointment_status, name="appointment_status"),
]

# The shared diagnostic and the plan.
urlpatterns += plan_urls.urlpatterns
