from django.urls import include, path

from binome.api.endpoints import api

urlpatterns = [
    path("", include("binome.site.urls")),
    path("", include("binome.core.urls")),
    path("", include("binome.accounts.urls")),
    path("organisations/", include("binome.organisations.urls")),
    path("territoires/", include("binome.territories.urls")),
    path("audit/", include("binome.access.urls")),
    path("annuaire/", include("binome.directory.urls")),
    path("api/v1/", api.urls),
    path("", include("binome.api.urls")),
    path("personnes/", include("binome.support.person_urls")),
    path("suivi/", include("binome.support.urls")),
]

handler404 = "binome.core.views.error_404"
handler403 = "binome.core.views.error_403"
handler500 = "binome.core.views.error_500"

# The accompanied person's own space.
urlpatterns += [path("mon-espace/", include("binome.support.space_urls"))]

# The notification centre.
urlpatterns += [path("notifications/", include("binome.notifications.urls"))]

# Orientations between organisations and to the services of the directory.
urlpatterns += [path("orientations/", include("binome.referrals.urls"))]

# Signed links of the referrals to structures without an account; referral figures.
urlpatterns += [path("orientations/", include("binome.referrals.urls_links"))]
urlpatterns += [path("orientations/chiffres/", include("binome.referrals.urls_figures"))]

# RSA: the CAF/MSA flows and the départements' spreadsheets imported from the territory's page.
urlpatterns += [path("rsa/imports/", include("binome.rsa.import_urls"))]

# Childcare for job-seeking parents (AVIP): providers' places, requests and answers.
urlpatterns += [path("garde-enfants/", include("binome.childcare.urls"))]

# RSA: the persons to orient, the orientation decision, the referent and the contract.
urlpatterns += [path("rsa/", include("binome.rsa.urls"))]

# The territory's steering: its dashboard and exports.
urlpatterns += [path("pilotage/", include("binome.steering.urls"))]

# Retention: the files near the end of their retention, legal holds, the runs' reports.
urlpatterns += [path("conservation/", include("binome.retention.urls"))]
