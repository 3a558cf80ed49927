"""URLs of the shared diagnostic and of the plan (included in ``support.urls``)."""

from django.urls import path

from binome.support import plan_views as views

urlpatterns = [
    path(
        "personnes/<int:pk>/diagnostic/nouveau/",
        views.diagnostic_create,
        name="diagnostic_create",
    ),
    path(
        "personnes/<int:pk>/diagnostics/",
        views.diagnostic_history,
        name="diagnostic_history",
    ),
    path("diagnostics/<int:pk>/", views.diagnostic_detail, name="diagnostic_detail"),
    path("diagnostics/<int:pk>/modifier/", views.diagnostic_edit, name="diagnostic_edit"),
    path("diagnostics/<int:pk>/valider/", views.diagnostic_validate, name="diagnostic_validate"),
    path("diagnostics/<int:pk>/supprimer/", views.diagnostic_delete, name="diagnostic_delete"),
    path(
        "personnes/<int:pk>/plan/objectifs/ajouter/",
        views.objective_add,
        name="objective_add",
    ),
    path(
        "personnes/<int:pk>/plan/suggestions/<slug:theme>/",
        views.suggestions,
        name="plan_suggestions",
    ),
    path(
        "personnes/<int:pk>/plan/ajouter-service/",
        views.plan_add_service,
        name="plan_add_service",
    ),
    path("objectifs/<int:pk>/", views.objective_edit, name="objective_edit"),
    path("objectifs/<int:pk>/actions/ajouter/", views.action_add, name="action_add"),
    path("actions/<int:pk>/", views.action_edit, name="action_edit"),
    path("actions/<int:pk>/statut/", views.action_status, name="action_status"),
    path(
        "territoires/<str:code>/situations-du-diagnostic/",
        views.department_situations,
        name="department_situations",
    ),
    path(
        "territoires/<str:code>/situations-du-diagnostic/<int:situation_pk>/retirer/",
        views.department_situation_remove,
        name="department_situation_remove",
    ),
]
