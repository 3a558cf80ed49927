from django.urls import path

from binome.organisations import views

app_name = "organisations"
urlpatterns = [
    path("", views.organisation_list, name="list"),
    path("nouvelle/", views.organisation_create, name="create"),
    path("choisir/", views.switch_organisation, name="switch"),
    path("<int:pk>/", views.organisation_detail, name="detail"),
    path("<int:pk>/modifier/", views.organisation_edit, name="edit"),
    path("<int:pk>/membres/inviter/", views.member_invite, name="member_invite"),
    path(
        "<int:pk>/membres/<int:membership_pk>/desactiver/",
        views.member_deactivate,
        name="member_deactivate",
    ),
    path(
        "<int:pk>/membres/<int:membership_pk>/reactiver/",
        views.member_reactivate,
        name="member_reactivate",
    ),
    path("<int:pk>/membres/<int:membership_pk>/role/", views.member_role, name="member_role"),
    path(
        "<int:pk>/membres/<int:membership_pk>/fonction/",
        views.member_function,
        name="member_function",
    ),
    path("territoire/<str:code>/roles/", views.territory_roles, name="territory_roles"),
    path(
        "territoire/<str:code>/roles/<int:role_pk>/retirer/",
        views.territory_role_revoke,
        name="territory_role_revoke",
    ),
]
