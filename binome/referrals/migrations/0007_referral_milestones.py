# The referrals' milestones (ReferralMilestones): a rollup of their steps, kept exact by
# statement-level triggers on referrals_referralevent (transition tables: one grouped
# statement per INSERT, UPDATE or DELETE statement, however many rows it touches), then
# filled from the existing steps. The figures read it instead of grouping a year of steps
# per referral (305 ms for the organisation that receives the most, national data set).

import django.db.models.deletion
from django.db import migrations, models

# A new step only moves its referral's milestones forward: the earliest date, any flag.
# (``least`` ignores NULL.) A changed or deleted step recomputes its referrals from their
# steps; a referral left without steps loses its row.
FUNCTION = """
CREATE FUNCTION referrals_milestones() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    touched bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO referrals_referralmilestones AS m (referral_id, sent_at, answered_at,
            started_at, accepted, declined, withdrawn, no_show)
        SELECT referral_id,
               min(at) FILTER (WHERE action = 'sent'),
               min(at) FILTER (WHERE action IN ('accepted', 'declined')),
               min(at) FILTER (WHERE action = 'started'),
               bool_or(action = 'accepted'), bool_or(action = 'declined'),
               bool_or(action = 'withdrawn'), bool_or(action = 'no_show')
        FROM new_rows GROUP BY referral_id ORDER BY referral_id
        ON CONFLICT (referral_id) DO UPDATE SET
            sent_at = least(m.sent_at, EXCLUDED.sent_at),
            answered_at = least(m.answered_at, EXCLUDED.answered_at),
            started_at = least(m.started_at, EXCLUDED.started_at),
            accepted = m.accepted OR EXCLUDED.accepted,
            declined = m.declined OR EXCLUDED.declined,
            withdrawn = m.withdrawn OR EXCLUDED.withdrawn,
            no_show = m.no_show OR EXCLUDED.no_show;
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        -- Only the steps whose referral, action or date changed (not a message rewritten).
        touched := ARRAY(
            SELECT unnest(ARRAY[o.referral_id, n.referral_id])
            FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE (o.referral_id, o.action, o.at) IS DISTINCT FROM (n.referral_id, n.action, n.at)
        );
        IF cardinality(touched) = 0 THEN
            RETURN NULL;
        END IF;
    ELSE
        touched := ARRAY(SELECT DISTINCT referral_id FROM old_rows);
    END IF;
    DELETE FROM referrals_referralmilestones m
    WHERE m.referral_id = ANY(touched)
      AND NOT EXISTS (SELECT 1 FROM referrals_referralevent e WHERE e.referral_id = m.referral_id);
    INSERT INTO referrals_referralmilestones AS m (referral_id, sent_at, answered_at,
        started_at, accepted, declined, withdrawn, no_show)
    SELECT e.referral_id,
           min(e.at) FILTER (WHERE e.action = 'sent'),
           min(e.at) FILTER (WHERE e.action IN ('accepted', 'declined')),
           min(e.at) FILTER (WHERE e.action = 'started'),
           bool_or(e.action = 'accepted'), bool_or(e.action = 'declined'),
           bool_or(e.action = 'withdrawn'), bool_or(e.action = 'no_show')
    FROM referrals_referralevent e
    WHERE e.referral_id = ANY(touched)
    GROUP BY e.referral_id ORDER BY e.referral_id
    ON CONFLICT (referral_id) DO UPDATE SET
        sent_at = EXCLUDED.sent_at, answered_at = EXCLUDED.answered_at,
        started_at = EXCLUDED.started_at, accepted = EXCLUDED.accepted,
        declined = EXCLUDED.declined, withdrawn = EXCLUDED.withdrawn,
        no_show = EXCLUDED.no_show;
    RETURN NULL;
END
$$;
"""

TRIGGERS = """
CREATE TRIGGER referrals_milestones_insert AFTER INSERT ON referrals_referralevent
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION referrals_milestones();
CREATE TRIGGER referrals_milestones_update AFTER UPDATE ON referrals_referralevent
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION referrals_milestones();
CREATE TRIGGER referrals_milestones_delete AFTER DELETE ON referrals_referralevent
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION referrals_milestones();
"""

# No step may slip between the rollup of the existing steps and the triggers.
FILL = """
LOCK TABLE referrals_referralevent IN SHARE ROW EXCLUSIVE MODE;
INSERT INTO referrals_referralmilestones (referral_id, sent_at, answered_at, started_at,
    accepted, declined, withdrawn, no_show)
SELECT e.referral_id,
       min(e.at) FILTER (WHERE e.action = 'sent'),
       min(e.at) FILTER (WHERE e.action IN ('accepted', 'declined')),
       min(e.at) FILTER (WHERE e.action = 'started'),
       bool_or(e.action = 'accepted'), bool_or(e.action = 'declined'),
       bool_or(e.action = 'withdrawn'), bool_or(e.action = 'no_show')
FROM referrals_referralevent e
GROUP BY e.referral_id;
"""

DROP = """
DROP TRIGGER referrals_milestones_insert ON referrals_referralevent;
DROP TRIGGER referrals_milestones_update ON referrals_referralevent;
DROP TRIGGER referrals_milestones_delete ON referrals_referralevent;
DROP FUNCTION referrals_milestones();
"""


class Migration(migrations.Migration):
    dependencies = [("referrals", "0006_referral_kind_rsa")]

    operations = [
        migrations.CreateModel(
            name="ReferralMilestones",
            fields=[
                (
                    "referral",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="referrals.referral",
                    ),
                ),
                ("sent_at", models.DateTimeField(null=True, verbose_name="envoyée le")),
                ("answered_at", models.DateTimeField(null=True, verbose_name="répondue le")),
                ("started_at", models.DateTimeField(null=True, verbose_name="commencée le")),
                ("accepted", models.BooleanField(default=False, verbose_name="acceptée")),
                ("declined", models.BooleanField(default=False, verbose_name="refusée")),
                ("withdrawn", models.BooleanField(default=False, verbose_name="retirée")),
                ("no_show", models.BooleanField(default=False, verbose_name="personne non venue")),
            ],
            options={
                "verbose_name": "jalons d'une orientation",
                "verbose_name_plural": "jalons des orientations",
            },
        ),
        migrations.RunSQL(FUNCTION, "DROP FUNCTION referrals_milestones();"),
        migrations.RunSQL(
            FILL + TRIGGERS, DROP.replace("DROP FUNCTION referrals_milestones();", "")
        ),
    ]
