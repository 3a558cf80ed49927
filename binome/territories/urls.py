from django.urls import path

from binome.territories import views

app_name = "territories"
urlpatterns = [
    path("communes/", views.commune_autocomplete, name="commune_autocomplete"),
]
