# The childcare figures of the steering dashboard (binome/childcare/figures.py): a
# département's requests of a period read from one index range (their filing time, kind,
# status and organisation on the entries) instead of all the département's requests; each
# request's first answer looked up in a partial index of the answered solicitations that
# holds the answer's time (no visit of the table). Both small: 100,000 requests and 178,000
# solicitations on the national data set.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("childcare", "0004_childcaresettings"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="childcarerequest",
            index=models.Index(
                fields=["department", "created_at"],
                include=("id", "urgency", "status", "organisation"),
                name="childcare_request_figures",
            ),
        ),
        migrations.AddIndex(
            model_name="solicitation",
            index=models.Index(
                condition=models.Q(("status__in", ["acceptee", "refusee"])),
                fields=["request"],
                include=("answered_at",),
                name="childcare_solicitation_answer",
            ),
        ),
    ]
