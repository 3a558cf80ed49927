from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("support", "0013_accompaniment_department"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="teammember",
            index=models.Index(fields=["accompaniment", "organisation"], name="team_organisations"),
        ),
    ]
