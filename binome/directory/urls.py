from django.urls import path

from binome.directory import import_views, views

app_name = "directory"
urlpatterns = [
    path("", views.service_search, name="search"),
    path("services/<int:pk>/", views.service_detail, name="service_detail"),
    path("territoire/<str:code>/imports/", import_views.import_list, name="import_list"),
    path(
        "territoire/<str:code>/imports/<int:pk>/",
        import_views.import_detail,
        name="import_detail",
    ),
    path(
        "territoire/<str:code>/imports/<int:pk>/avancement/",
        import_views.import_progress,
        name="import_progress",
    ),
]
