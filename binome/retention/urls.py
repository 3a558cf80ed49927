from django.urls import path

from binome.retention import access_views, archive_views, views

app_name = "retention"

urlpatterns = [
    path("mes-donnees/", access_views.my_data, name="my_data"),
    path(
        "mes-donnees/<str:file_format>/",
        access_views.my_data_download,
        name="my_data_download",
    ),
    path("dossiers/<int:pk>/acces/", access_views.file_access, name="file_access"),
    path(
        "dossiers/<int:pk>/acces/<int:request_pk>/<str:file_format>/",
        access_views.file_access_download,
        name="file_access_download",
    ),
    path("<str:code>/", views.territory, name="territory"),
    path("<str:code>/conserver/", views.hold, name="hold"),
    path("<str:code>/effacer/", views.erase, name="erase"),
    path("<str:code>/conservations/<int:pk>/lever/", views.lift, name="lift"),
    path("<str:code>/archive/", archive_views.archive_list, name="archive_list"),
    path("<str:code>/archive/<int:pk>/", archive_views.archive_read, name="archive_read"),
    path("<str:code>/archive/reglage/", archive_views.archive_settings, name="archive_settings"),
    path("<str:code>/archive/retablir/", archive_views.restore, name="archive_restore"),
]
