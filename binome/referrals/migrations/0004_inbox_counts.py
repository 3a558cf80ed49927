# The inbox's tab counts: ReceivedCount kept exact by statement-level triggers on
# referrals_referral (transition tables: one grouped statement per INSERT, UPDATE or
# DELETE statement, however many rows it touches), then filled from the existing rows.

from django.conf import settings
from django.db import migrations, models
import django.db.models.deletion

COUNT_FUNCTION = """
CREATE FUNCTION referrals_received_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The change of each (organisation, state) pair: +1 per new row, -1 per old row.
    -- Pairs are written in a fixed order, so that two transactions never wait for each
    -- other's counts in opposite orders.
    IF TG_OP = 'INSERT' THEN
        INSERT INTO referrals_receivedcount (organisation_id, status, count)
        SELECT to_organisation_id, status, count(*) FROM new_rows
        WHERE to_organisation_id IS NOT NULL
        GROUP BY to_organisation_id, status ORDER BY to_organisation_id, status
        ON CONFLICT (organisation_id, status)
        DO UPDATE SET count = referrals_receivedcount.count + EXCLUDED.count;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO referrals_receivedcount (organisation_id, status, count)
        SELECT to_organisation_id, status, -count(*) FROM old_rows
        WHERE to_organisation_id IS NOT NULL
        GROUP BY to_organisation_id, status ORDER BY to_organisation_id, status
        ON CONFLICT (organisation_id, status)
        DO UPDATE SET count = referrals_receivedcount.count + EXCLUDED.count;
    ELSE
        INSERT INTO referrals_receivedcount (organisation_id, status, count)
        SELECT to_organisation_id, status, sum(change) FROM (
            SELECT to_organisation_id, status, 1 AS change FROM new_rows
            UNION ALL
            SELECT to_organisation_id, status, -1 FROM old_rows
        ) AS changes
        WHERE to_organisation_id IS NOT NULL
        GROUP BY to_organisation_id, status HAVING sum(change) <> 0
        ORDER BY to_organisation_id, status
        ON CONFLICT (organisation_id, status)
        DO UPDATE SET count = referrals_receivedcount.count + EXCLUDED.count;
    END IF;
    RETURN NULL;
END
$$;
"""

TRIGGERS = """
CREATE TRIGGER referrals_received_count_insert AFTER INSERT ON referrals_referral
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION referrals_received_count();
CREATE TRIGGER referrals_received_count_update AFTER UPDATE ON referrals_referral
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION referrals_received_count();
CREATE TRIGGER referrals_received_count_delete AFTER DELETE ON referrals_referral
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION referrals_received_count();
"""

# No write may slip between the count of the existing rows and the triggers.
FILL = """
LOCK TABLE referrals_referral IN SHARE ROW EXCLUSIVE MODE;
INSERT INTO referrals_receivedcount (organisation_id, status, count)
SELECT to_organisation_id, status, count(*) FROM referrals_referral
WHERE to_organisation_id IS NOT NULL
GROUP BY to_organisation_id, status;
"""

DROP = """
DROP TRIGGER referrals_received_count_insert ON referrals_referral;
DROP TRIGGER referrals_received_count_update ON referrals_referral;
DROP TRIGGER referrals_received_count_delete ON referrals_referral;
DROP FUNCTION referrals_received_count();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0009_search_functions_inlined"),
        ("organisations", "0002_partnerships"),
        ("people", "0002_consent_names_a_structure"),
        ("referrals", "0003_inbox_awaiting_index"),
        ("support", "0004_referral_timeline_kind"),
        ("territories", "0004_epci"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ReceivedCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("sent", "Envoyée"),
                            ("seen", "Vue"),
                            ("accepted", "Acceptée"),
                            ("declined", "Refusée"),
                            ("withdrawn", "Retirée"),
                            ("expired", "Expirée"),
                            ("started", "Commencée"),
                            ("completed", "Terminée"),
                            ("abandoned", "Abandonnée"),
                            ("no_show", "Personne non venue"),
                        ],
                        max_length=20,
                        verbose_name="état",
                    ),
                ),
                ("count", models.BigIntegerField(default=0, verbose_name="nombre")),
            ],
            options={
                "verbose_name": "nombre d'orientations reçues",
                "verbose_name_plural": "nombres d'orientations reçues",
            },
        ),
        migrations.AddIndex(
            model_name="referral",
            index=models.Index(
                fields=["to_organisation", "due_on", "id"], name="referral_inbox_order"
            ),
        ),
        migrations.AddField(
            model_name="receivedcount",
            name="organisation",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="organisations.organisation",
            ),
        ),
        migrations.AddConstraint(
            model_name="receivedcount",
            constraint=models.UniqueConstraint(
                fields=("organisation", "status"), name="received_count_once"
            ),
        ),
        migrations.RunSQL(FILL + COUNT_FUNCTION + TRIGGERS, DROP),
    ]
