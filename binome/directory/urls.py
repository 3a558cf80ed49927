from django.urls import path

from binome.directory import editing, import_views, views

app_name = "directory"
urlpatterns = [
    path("", views.service_search, name="search"),
    path("services/<int:pk>/", views.service_detail, name="service_detail"),
    path("services/<int:pk>/signaler/", views.service_report, name="service_report"),
    # Organisations edit their own structures and services ("Nos services").
    path("organisations/<int:pk>/services/", editing.my_services, name="my_services"),
    path(
        "organisations/<int:pk>/structures/nouvelle/",
        editing.structure_create,
        name="structure_create",
    ),
    path("structures/<int:pk>/modifier/", editing.structure_edit, name="structure_edit"),
    path("structures/<int:pk>/services/nouveau/", editing.service_create, name="service_create"),
    path("services/<int:pk>/modifier/", editing.service_edit, name="service_edit"),
    path("services/<int:pk>/depublier/", editing.service_unpublish, name="service_unpublish"),
    path("services/<int:pk>/a-jour/", editing.service_confirm, name="service_confirm"),
    path("signalements/<int:pk>/traiter/", editing.report_resolve, name="report_resolve"),
    # The territory's moderation of declared structures.
    path("moderation/<str:code>/", editing.moderation, name="moderation"),
    path("structures/<int:pk>/valider/", editing.structure_approve, name="structure_approve"),
    path("structures/<int:pk>/refuser/", editing.structure_reject, name="structure_reject"),
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
