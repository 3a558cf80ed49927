"""One designated referent per accompaniment. The existing accompaniments get theirs from
their current team: the member whose role is « référent », else the earliest to join."""

import django.db.models.deletion
from django.db import migrations, models

DESIGNATE_FROM_TEAM = """
UPDATE support_accompaniment AS a
SET referent_id = (
    SELECT t.id
    FROM support_teammember AS t
    WHERE t.accompaniment_id = a.id AND t.left_at IS NULL
    ORDER BY (t.role = 'referent') DESC, t.joined_at, t.id
    LIMIT 1
)
WHERE a.referent_id IS NULL
"""


class Migration(migrations.Migration):
    dependencies = [
        ("support", "0006_join_request"),
    ]

    operations = [
        migrations.AddField(
            model_name="accompaniment",
            name="referent",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="support.teammember",
                verbose_name="référent ou référente désigné(e)",
            ),
        ),
        migrations.RunSQL(DESIGNATE_FROM_TEAM, reverse_sql=migrations.RunSQL.noop),
    ]
