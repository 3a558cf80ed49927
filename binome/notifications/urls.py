from django.urls import path

from binome.notifications import views

app_name = "notifications"
urlpatterns = [
    path("", views.notification_list, name="list"),
    path("compteur/", views.unread_badge, name="unread_badge"),
    path("tout-marquer-lu/", views.notification_mark_all_read, name="mark_all_read"),
    path("preferences/", views.preferences, name="preferences"),
    path("<int:pk>/", views.notification_open, name="open"),
    path("<int:pk>/lue/", views.notification_mark_read, name="mark_read"),
]
