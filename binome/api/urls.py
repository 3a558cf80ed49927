from django.urls import path

from binome.api import views

app_name = "api_pages"
urlpatterns = [
    path("api/", views.documentation, name="documentation"),
    path("organisations/<int:pk>/api/", views.token_list, name="tokens"),
    path(
        "organisations/<int:pk>/api/<int:token_pk>/revoquer/",
        views.token_revoke,
        name="token_revoke",
    ),
]
