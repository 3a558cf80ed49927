# The dossier's département, state of the right and « sans domicile fixe » copied onto its
# adults (rsa_beneficiary), kept right by the database: a row trigger fills them on each
# insert of a beneficiary (or change of its dossier), a statement trigger on rsa_dossier
# (transition table: one UPDATE per statement, however many dossiers it changes) copies a
# change onto the dossier's adults. The existing rows are filled by one UPDATE, under a lock, before the triggers
# exist (no write slips between), then the partial indexes of « à orienter » and of the
# figures are built on them.

import django.db.models.deletion
from django.db import migrations, models

FUNCTIONS = """
CREATE FUNCTION rsa_beneficiary_from_dossier() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT d.department_id, d.state, d.no_fixed_address
    INTO NEW.department_id, NEW.dossier_state, NEW.no_fixed_address
    FROM rsa_dossier d WHERE d.id = NEW.dossier_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'rsa_beneficiary %: its dossier % is to be written first',
            NEW.id, NEW.dossier_id;
    END IF;
    RETURN NEW;
END
$$;

CREATE FUNCTION rsa_dossier_to_beneficiaries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE rsa_beneficiary b
    SET department_id = n.department_id, dossier_state = n.state,
        no_fixed_address = n.no_fixed_address
    FROM new_rows n
    WHERE b.dossier_id = n.id
      AND (b.department_id IS DISTINCT FROM n.department_id
           OR b.dossier_state IS DISTINCT FROM n.state
           OR b.no_fixed_address IS DISTINCT FROM n.no_fixed_address);
    RETURN NULL;
END
$$;
"""

# No write may slip between the copy of the existing rows and the triggers.
FILL = """
LOCK TABLE rsa_dossier, rsa_beneficiary IN SHARE ROW EXCLUSIVE MODE;
UPDATE rsa_beneficiary b
SET department_id = d.department_id, dossier_state = d.state,
    no_fixed_address = d.no_fixed_address
FROM rsa_dossier d WHERE d.id = b.dossier_id;
"""

TRIGGERS = """
CREATE TRIGGER rsa_beneficiary_from_dossier
    BEFORE INSERT OR UPDATE OF dossier_id, department_id, dossier_state, no_fixed_address
    ON rsa_beneficiary
    FOR EACH ROW EXECUTE FUNCTION rsa_beneficiary_from_dossier();
CREATE TRIGGER rsa_dossier_to_beneficiaries AFTER UPDATE ON rsa_dossier
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION rsa_dossier_to_beneficiaries();
"""

DROP = """
DROP TRIGGER rsa_dossier_to_beneficiaries ON rsa_dossier;
DROP TRIGGER rsa_beneficiary_from_dossier ON rsa_beneficiary;
DROP FUNCTION rsa_dossier_to_beneficiaries();
DROP FUNCTION rsa_beneficiary_from_dossier();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("rsa", "0004_reconciliation_activity_reorientation"),
        ("territories", "0004_epci"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="beneficiary",
            name="rsa_beneficiary_to_orient",
        ),
        migrations.AddField(
            model_name="beneficiary",
            name="department",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="territories.department",
                verbose_name="département (du dossier)",
            ),
        ),
        migrations.AddField(
            model_name="beneficiary",
            name="dossier_state",
            field=models.CharField(
                blank=True,
                choices=[
                    ("0", "Nouvelle demande en attente de décision du département"),
                    ("1", "Droit refusé"),
                    ("2", "Droit ouvert et versable"),
                    ("3", "Droit suspendu"),
                    ("4", "Droit ouvert, versement suspendu"),
                    ("5", "Droit clos"),
                    ("6", "Droit clos sur un mois antérieur"),
                ],
                editable=False,
                max_length=1,
                verbose_name="état du droit (du dossier)",
            ),
        ),
        migrations.AddField(
            model_name="beneficiary",
            name="no_fixed_address",
            field=models.BooleanField(
                default=False, editable=False, verbose_name="sans domicile fixe (du dossier)"
            ),
        ),
        migrations.RunSQL(FUNCTIONS + FILL + TRIGGERS, DROP),
        migrations.AlterField(
            model_name="orientation",
            name="beneficiary",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="orientations",
                to="rsa.beneficiary",
            ),
        ),
        migrations.AddIndex(
            model_name="beneficiary",
            index=models.Index(
                condition=models.Q(
                    ("dossier_state__in", ("0", "2", "3", "4")),
                    ("orientation_due_on__isnull", False),
                    ("oriented_on__isnull", True),
                    ("person__isnull", False),
                    ("subject_to_rights_and_duties", True),
                ),
                fields=["department", "orientation_due_on", "id"],
                include=("no_fixed_address", "first_name", "last_name"),
                name="rsa_beneficiary_to_orient",
            ),
        ),
        migrations.AddIndex(
            model_name="beneficiary",
            index=models.Index(
                condition=models.Q(
                    ("right_opened_on__isnull", False), ("subject_to_rights_and_duties", True)
                ),
                fields=["department", "right_opened_on"],
                include=("id", "dossier_state"),
                name="rsa_beneficiary_opened",
            ),
        ),
        migrations.AddIndex(
            model_name="orientation",
            index=models.Index(fields=["beneficiary", "notified_on"], name="rsa_orientation_first"),
        ),
        migrations.AddIndex(
            model_name="orientation",
            index=models.Index(
                condition=models.Q(("kind", ""), _negated=True),
                fields=["department", "notified_on"],
                name="rsa_orientation_notified",
            ),
        ),
        migrations.RunSQL("ANALYZE rsa_beneficiary, rsa_orientation", migrations.RunSQL.noop),
    ]
