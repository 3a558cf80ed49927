from django.urls import path

from binome.access import views

app_name = "access"
urlpatterns = [
    path("<str:code>/", views.audit_log, name="audit_log"),
]
