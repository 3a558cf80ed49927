from django.db import migrations, models


class Migration(migrations.Migration):
    """The département's index of global accompaniments covers the columns the steering
    figures read, so that they are read by index-only scans."""

    dependencies = [
        ("support", "0014_team_organisations"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="accompaniment",
            name="accompaniment_global_dept",
        ),
        migrations.AddIndex(
            model_name="accompaniment",
            index=models.Index(
                condition=models.Q(("kind", "global")),
                fields=["department", "started_on"],
                include=[
                    "ended_on",
                    "exit_reason",
                    "activated_on",
                    "followup_recorded_on",
                    "followup_outcome",
                    "person",
                    "age_at_start",
                    "id",
                ],
                name="accompaniment_dept_figures",
            ),
        ),
    ]
