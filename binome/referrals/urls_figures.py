from django.urls import path

from binome.referrals import figures_views

app_name = "referral_figures"
urlpatterns = [
    path("territoires/<str:code>/", figures_views.territory, name="territory"),
    path("organisations/<int:pk>/", figures_views.organisation, name="organisation"),
]
