from django.urls import path

from binome.steering import views

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
    path("territoires/<str:code>/fse.<str:extension>", views.fse_export, name="fse_export"),
    path("territoires/<str:code>/reglages/", views.settings, name="settings"),
    path("territoires/<str:code>/comite/", views.comite, name="comite"),
    path("comite/<int:pk>/", views.session, name="session"),
    path("comite/situations/<int:pk>/decision/", views.decide, name="decide"),
    path("personnes/<int:person_pk>/comite/", views.flag, name="flag"),
    path("organisations/<int:pk>/", views.organisation, name="organisation"),
    path(
        "organisations/<int:pk>/export/<slug:section>/<slug:table>.<str:extension>",
        views.organisation_export,
        name="organisation_export",
    ),
]
