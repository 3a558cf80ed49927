from django.urls import path

from binome.referrals import link_views

app_name = "referral_links"
urlpatterns = [
    path("lien/<str:token>/", link_views.open_link, name="open"),
    path("<int:pk>/renvoyer-le-lien/", link_views.resend, name="resend"),
]
