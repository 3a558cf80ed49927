from django.urls import path

from binome.retention import views

app_name = "retention"

urlpatterns = [
    path("<str:code>/", views.territory, name="territory"),
    path("<str:code>/conserver/", views.hold, name="hold"),
    path("<str:code>/conservations/<int:pk>/lever/", views.lift, name="lift"),
]
