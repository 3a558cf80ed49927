# The figures read an organisation's or a département's year of referrals from the
# milestones alone: each row gets its referral's scope (kind, département, sending and
# receiving organisations) and period key (its sending time), copied by triggers, and the two
# delays in seconds (generated columns); one covering index per scope. Before: the 70,000
# referrals of the organisation that receives the most (national data set) were read from
# the referrals' table, then their rows looked up one by one (~800 ms of execution).

import importlib

import django.db.models.deletion
import django.db.models.expressions
import django.db.models.functions.datetime
from django.db import migrations, models

# The steps' trigger (migration 0007), which now also copies the referral's scope into the
# rows it creates or recomputes. A new step only moves the milestones forward; a changed or
# deleted step recomputes its referrals from their steps.
FUNCTION = """
CREATE OR REPLACE FUNCTION referrals_milestones() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    touched bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO referrals_referralmilestones AS m (referral_id, sent_at, answered_at,
            started_at, accepted, declined, withdrawn, no_show, kind, department_id,
            sender_organisation_id, to_organisation_id, referral_sent_at)
        SELECT n.referral_id,
               min(n.at) FILTER (WHERE n.action = 'sent'),
               min(n.at) FILTER (WHERE n.action IN ('accepted', 'declined')),
               min(n.at) FILTER (WHERE n.action = 'started'),
               bool_or(n.action = 'accepted'), bool_or(n.action = 'declined'),
               bool_or(n.action = 'withdrawn'), bool_or(n.action = 'no_show'),
               coalesce(r.kind, ''), r.department_id, r.sender_organisation_id,
               r.to_organisation_id, r.sent_at
        FROM new_rows n LEFT JOIN referrals_referral r ON r.id = n.referral_id
        GROUP BY n.referral_id, r.id ORDER BY n.referral_id
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
        started_at, accepted, declined, withdrawn, no_show, kind, department_id,
        sender_organisation_id, to_organisation_id, referral_sent_at)
    SELECT e.referral_id,
           min(e.at) FILTER (WHERE e.action = 'sent'),
           min(e.at) FILTER (WHERE e.action IN ('accepted', 'declined')),
           min(e.at) FILTER (WHERE e.action = 'started'),
           bool_or(e.action = 'accepted'), bool_or(e.action = 'declined'),
           bool_or(e.action = 'withdrawn'), bool_or(e.action = 'no_show'),
           coalesce(r.kind, ''), r.department_id, r.sender_organisation_id,
           r.to_organisation_id, r.sent_at
    FROM referrals_referralevent e LEFT JOIN referrals_referral r ON r.id = e.referral_id
    WHERE e.referral_id = ANY(touched)
    GROUP BY e.referral_id, r.id ORDER BY e.referral_id
    ON CONFLICT (referral_id) DO UPDATE SET
        sent_at = EXCLUDED.sent_at, answered_at = EXCLUDED.answered_at,
        started_at = EXCLUDED.started_at, accepted = EXCLUDED.accepted,
        declined = EXCLUDED.declined, withdrawn = EXCLUDED.withdrawn,
        no_show = EXCLUDED.no_show, kind = EXCLUDED.kind,
        department_id = EXCLUDED.department_id,
        sender_organisation_id = EXCLUDED.sender_organisation_id,
        to_organisation_id = EXCLUDED.to_organisation_id,
        referral_sent_at = EXCLUDED.referral_sent_at;
    RETURN NULL;
END
$$;
"""

# The referrals' side: a referral whose scope or sending time changes moves its row (a
# row trigger whose condition PostgreSQL checks without calling it: the status changes of
# every day cost nothing); referrals inserted after their steps (deferred foreign keys)
# give theirs in one statement.
SCOPE = """
CREATE FUNCTION referrals_milestones_scope() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_LEVEL = 'ROW' THEN
        UPDATE referrals_referralmilestones
        SET kind = NEW.kind, department_id = NEW.department_id,
            sender_organisation_id = NEW.sender_organisation_id,
            to_organisation_id = NEW.to_organisation_id, referral_sent_at = NEW.sent_at
        WHERE referral_id = NEW.id;
    ELSE
        UPDATE referrals_referralmilestones m
        SET kind = n.kind, department_id = n.department_id,
            sender_organisation_id = n.sender_organisation_id,
            to_organisation_id = n.to_organisation_id, referral_sent_at = n.sent_at
        FROM new_rows n
        WHERE m.referral_id = n.id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER referrals_milestones_scope_insert AFTER INSERT ON referrals_referral
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION referrals_milestones_scope();
CREATE TRIGGER referrals_milestones_scope_update
    AFTER UPDATE OF kind, department_id, sender_organisation_id, to_organisation_id, sent_at
    ON referrals_referral
    FOR EACH ROW WHEN (
        (OLD.kind, OLD.department_id, OLD.sender_organisation_id, OLD.to_organisation_id,
         OLD.sent_at)
        IS DISTINCT FROM
        (NEW.kind, NEW.department_id, NEW.sender_organisation_id, NEW.to_organisation_id,
         NEW.sent_at)
    )
    EXECUTE FUNCTION referrals_milestones_scope();
"""

# No referral nor step may change between the copy and the triggers.
FILL = """
LOCK TABLE referrals_referral, referrals_referralevent IN SHARE ROW EXCLUSIVE MODE;
UPDATE referrals_referralmilestones m
SET kind = r.kind, department_id = r.department_id,
    sender_organisation_id = r.sender_organisation_id,
    to_organisation_id = r.to_organisation_id, referral_sent_at = r.sent_at
FROM referrals_referral r
WHERE r.id = m.referral_id;
"""

REVERSE = """
DROP TRIGGER referrals_milestones_scope_insert ON referrals_referral;
DROP TRIGGER referrals_milestones_scope_update ON referrals_referral;
DROP FUNCTION referrals_milestones_scope();
""" + importlib.import_module(
    "binome.referrals.migrations.0007_referral_milestones"
).FUNCTION.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")


class Migration(migrations.Migration):
    dependencies = [
        ("organisations", "0004_territory_role_archivist"),
        ("referrals", "0008_referral_department_sent"),
        ("territories", "0004_epci"),
    ]

    operations = [
        migrations.AddField(
            model_name="referralmilestones",
            name="department",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="territories.department",
            ),
        ),
        migrations.AddField(
            model_name="referralmilestones",
            name="sender_organisation",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="organisations.organisation",
            ),
        ),
        migrations.AddField(
            model_name="referralmilestones",
            name="to_organisation",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="organisations.organisation",
            ),
        ),
        migrations.AddField(
            model_name="referralmilestones",
            name="kind",
            field=models.CharField(blank=True, max_length=20, verbose_name="type d'orientation"),
        ),
        migrations.AddField(
            model_name="referralmilestones",
            name="referral_sent_at",
            field=models.DateTimeField(null=True, verbose_name="orientation envoyée le"),
        ),
        migrations.AddField(
            model_name="referralmilestones",
            name="answer_seconds",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.datetime.Extract(
                    django.db.models.expressions.CombinedExpression(
                        models.F("answered_at"), "-", models.F("sent_at")
                    ),
                    "epoch",
                ),
                output_field=models.FloatField(null=True),
            ),
        ),
        migrations.AddField(
            model_name="referralmilestones",
            name="start_seconds",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.datetime.Extract(
                    django.db.models.expressions.CombinedExpression(
                        models.F("started_at"), "-", models.F("sent_at")
                    ),
                    "epoch",
                ),
                output_field=models.FloatField(null=True),
            ),
        ),
        migrations.RunSQL(FUNCTION + SCOPE + FILL, REVERSE),
        migrations.AddIndex(
            model_name="referralmilestones",
            index=models.Index(
                fields=["to_organisation", "referral_sent_at"],
                include=(
                    "kind",
                    "sent_at",
                    "answer_seconds",
                    "start_seconds",
                    "accepted",
                    "declined",
                    "withdrawn",
                    "no_show",
                ),
                name="referral_milestones_received",
            ),
        ),
        migrations.AddIndex(
            model_name="referralmilestones",
            index=models.Index(
                fields=["sender_organisation", "referral_sent_at"],
                include=(
                    "kind",
                    "sent_at",
                    "answer_seconds",
                    "start_seconds",
                    "accepted",
                    "declined",
                    "withdrawn",
                    "no_show",
                ),
                name="referral_milestones_sent",
            ),
        ),
        migrations.AddIndex(
            model_name="referralmilestones",
            index=models.Index(
                fields=["department", "referral_sent_at"],
                include=(
                    "to_organisation",
                    "sender_organisation",
                    "kind",
                    "sent_at",
                    "answer_seconds",
                    "start_seconds",
                    "accepted",
                    "declined",
                    "withdrawn",
                    "no_show",
                ),
                name="referral_milestones_department",
            ),
        ),
    ]
