"""The person's département on each accompaniment, kept by the database.

The steering figures scope a département's global accompaniments by the person's
département: at national volume, joining the persons meant a scan of every global
accompaniment of the country for each statement. The copy is written by triggers (the ORM,
COPY and raw SQL alike) so that it is always the person's:

- before every INSERT and UPDATE of an accompaniment, from its person;
- after a person's département changes, on all her accompaniments.

The backfill runs before the triggers exist (one set-based UPDATE).
"""

import django.db.models.deletion
from django.db import migrations, models

FORWARD = """
UPDATE support_accompaniment AS a
   SET department_id = p.department_id
  FROM people_person AS p
 WHERE p.id = a.person_id AND a.department_id IS DISTINCT FROM p.department_id;

CREATE FUNCTION support_accompaniment_department() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.department_id := (SELECT department_id FROM people_person WHERE id = NEW.person_id);
    RETURN NEW;
END
$$;

CREATE TRIGGER support_accompaniment_department
BEFORE INSERT OR UPDATE ON support_accompaniment
FOR EACH ROW EXECUTE FUNCTION support_accompaniment_department();

CREATE FUNCTION people_person_department_to_accompaniments() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE support_accompaniment SET department_id = NEW.department_id
     WHERE person_id = NEW.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER people_person_department_to_accompaniments
AFTER UPDATE OF department_id ON people_person
FOR EACH ROW WHEN (OLD.department_id IS DISTINCT FROM NEW.department_id)
EXECUTE FUNCTION people_person_department_to_accompaniments();
"""

BACKWARD = """
DROP TRIGGER people_person_department_to_accompaniments ON people_person;
DROP FUNCTION people_person_department_to_accompaniments();
DROP TRIGGER support_accompaniment_department ON support_accompaniment;
DROP FUNCTION support_accompaniment_department();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0003_consent_document_type"),
        ("support", "0012_accompaniment_ages"),
        ("territories", "0004_epci"),
    ]

    operations = [
        migrations.AddField(
            model_name="accompaniment",
            name="department",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="territories.department",
                verbose_name="département de la personne",
            ),
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
        migrations.AddIndex(
            model_name="accompaniment",
            index=models.Index(
                condition=models.Q(("kind", "global")),
                fields=["department", "started_on"],
                name="accompaniment_global_dept",
            ),
        ),
    ]
