from django.urls import path

from binome.directory import views

app_name = "directory"
urlpatterns = [
    path("", views.service_search, name="search"),
    path("services/<int:pk>/", views.service_detail, name="service_detail"),
]
