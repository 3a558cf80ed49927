"""The territory administrator's RSA imports, under ``/rsa/imports/``."""

from django.urls import path

from binome.rsa import import_views

app_name = "rsa_imports"

urlpatterns = [
    path("<str:code>/", import_views.import_list, name="import_list"),
    path("<str:code>/<int:pk>/", import_views.import_detail, name="import_detail"),
    path("<str:code>/<int:pk>/avancement/", import_views.import_progress, name="import_progress"),
    path(
        "<str:code>/<int:pk>/correspondance/",
        import_views.import_mapping,
        name="import_mapping",
    ),
    path("<str:code>/<int:pk>/apercu/", import_views.import_preview, name="import_preview"),
]
