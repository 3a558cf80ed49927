from django.urls import path

from binome.accounts import proconnect, views

app_name = "accounts"
urlpatterns = [
    path("connexion/", views.login_view, name="login"),
    path("connexion/code/", views.otp_verify, name="otp_verify"),
    path("connexion/double-authentification/", views.otp_setup, name="otp_setup"),
    path("deconnexion/", views.logout_view, name="logout"),
    path("compte/", views.security, name="security"),
    path("compte/double-authentification/desactiver/", views.otp_disable, name="otp_disable"),
    path("compte/mot-de-passe/", views.password_change, name="password_change"),
    path(
        "connexion/mot-de-passe-oublie/", views.PasswordResetView.as_view(), name="password_reset"
    ),
    path(
        "connexion/mot-de-passe-oublie/envoye/",
        views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "connexion/nouveau-mot-de-passe/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("connexion/invitation/<str:token>/", views.accept_invitation, name="accept_invitation"),
    path("connexion/lien/", views.magic_link_request, name="magic_link_request"),
    path("connexion/lien/<str:token>/", views.magic_link_login, name="magic_link_login"),
    path("connexion/proconnect/", proconnect.login, name="proconnect_login"),
    path("connexion/proconnect/retour/", proconnect.callback, name="proconnect_callback"),
    path("connexion/proconnect/deconnexion/", proconnect.logout, name="proconnect_logout"),
    path(
        "connexion/proconnect/deconnexion/retour/",
        proconnect.logout_callback,
        name="proconnect_logout_callback",
    ),
]
