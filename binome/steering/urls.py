from django.urls import path

from binome.steering import fse_views, views

app_name = "steering"
urlpatterns = [
    path("national/", views.national_dashboard, name="national"),
    path(
        "national/export/<slug:section>/<slug:table>.<str:extension>",
        views.national_export,
        name="national_export",
    ),
    path("territoires/<str:code>/", views.territory, name="territory"),
    path(
        "territoires/<str:code>/export/<slug:section>/<slug:table>.<str:extension>",
        views.territory_export,
        name="territory_export",
    ),
    path(
        "territoires/<str:code>/tableaux/<slug:section>/<slug:table>/",
        views.territory_table,
        name="territory_table",
    ),
    path("territoires/<str:code>/fse.<str:extension>", views.fse_export, name="fse_export"),
    path(
        "territoires/<str:code>/fse/operations/",
        fse_views.operations_list,
        name="fse_operations",
    ),
    path("fse/operations/<int:pk>/", fse_views.operation, name="fse_operation"),
    path(
        "fse/operations/<int:pk>/export.<str:extension>",
        fse_views.operation_export,
        name="fse_operation_export",
    ),
    path("territoires/<str:code>/reglages/", views.settings, name="settings"),
    path("territoires/<str:code>/comite/", views.comite, name="comite"),
    path("comite/<int:pk>/", views.session, name="session"),
    path("comite/<int:pk>/compte-rendu.pdf", views.session_minutes, name="session_minutes"),
    path("comite/situations/<int:pk>/decision/", views.decide, name="decide"),
    path("personnes/<int:person_pk>/comite/", views.flag, name="flag"),
    path("organisations/<int:pk>/", views.organisation, name="organisation"),
    path(
        "organisations/<int:pk>/tableaux/<slug:section>/<slug:table>/",
        views.organisation_table,
        name="organisation_table",
    ),
    path(
        "organisations/<int:pk>/export/<slug:section>/<slug:table>.<str:extension>",
        views.organisation_export,
        name="organisation_export",
    ),
]
