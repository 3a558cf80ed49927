from django.urls import path

from binome.rsa import views

app_name = "rsa"
urlpatterns = [
    path("<str:code>/a-orienter/", views.to_orient, name="to_orient"),
    path("<str:code>/a-orienter/orienter/", views.orient_bulk, name="orient_bulk"),
    path("<str:code>/a-rapprocher/", views.to_reconcile, name="to_reconcile"),
    path("beneficiaires/<int:pk>/rapprocher/", views.reconcile, name="reconcile"),
    path("<str:code>/chiffres/", views.figures, name="figures"),
    path("beneficiaires/<int:pk>/orienter/", views.orient, name="orient"),
    path("personnes/<int:pk>/", views.file_section, name="file_section"),
    path("organisations/<int:organisation_id>/orientations/", views.received, name="received"),
    path("orientations/<int:pk>/", views.orientation_detail, name="orientation"),
    path("orientations/<int:pk>/referent/", views.designate, name="designate"),
    path("orientations/<int:pk>/contrat/", views.contract, name="contract"),
    path(
        "orientations/<int:pk>/reorientation/",
        views.ask_reorientation,
        name="ask_reorientation",
    ),
]
