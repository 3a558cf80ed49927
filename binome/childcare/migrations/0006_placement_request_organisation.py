"""The organisation that filed the request on each placement, kept by the database.

The childcare figures group a département's placements by the organisation that asked for
them (the table by organisation, an organisation's scope): the statement looked up each
placement's request by its key, most of its time on the national data set. The copy is
written by triggers (the ORM, COPY and raw SQL alike) so that it is always the request's:

- before every INSERT of a placement, and every UPDATE that writes its request or the copy
  (a model's full save() does), from its request;
- after a request's organisation changes, on its placements;
- after requests are inserted, on the placements already written for them (foreign keys
  are deferred: a placement may come first in a transaction).

The backfill runs before the triggers exist (one set-based UPDATE).
"""

import django.db.models.deletion
from django.db import migrations, models

FORWARD = """
UPDATE childcare_placement AS pl
   SET request_organisation_id = r.organisation_id
  FROM childcare_childcarerequest AS r
 WHERE r.id = pl.request_id AND pl.request_organisation_id IS DISTINCT FROM r.organisation_id;

CREATE FUNCTION childcare_placement_request_organisation() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.request_organisation_id := (
        SELECT organisation_id FROM childcare_childcarerequest WHERE id = NEW.request_id
    );
    RETURN NEW;
END
$$;

CREATE TRIGGER childcare_placement_request_organisation
BEFORE INSERT OR UPDATE OF request_id, request_organisation_id ON childcare_placement
FOR EACH ROW EXECUTE FUNCTION childcare_placement_request_organisation();

CREATE FUNCTION childcare_request_organisation_to_placements() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_LEVEL = 'ROW' THEN
        UPDATE childcare_placement SET request_organisation_id = NEW.organisation_id
         WHERE request_id = NEW.id
           AND request_organisation_id IS DISTINCT FROM NEW.organisation_id;
    ELSE
        UPDATE childcare_placement AS pl SET request_organisation_id = n.organisation_id
          FROM new_rows AS n
         WHERE pl.request_id = n.id
           AND pl.request_organisation_id IS DISTINCT FROM n.organisation_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER childcare_request_organisation_to_placements
AFTER UPDATE OF organisation_id ON childcare_childcarerequest
FOR EACH ROW WHEN (OLD.organisation_id IS DISTINCT FROM NEW.organisation_id)
EXECUTE FUNCTION childcare_request_organisation_to_placements();

CREATE TRIGGER childcare_request_organisation_to_placements_insert
AFTER INSERT ON childcare_childcarerequest
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION childcare_request_organisation_to_placements();
"""

BACKWARD = """
DROP TRIGGER childcare_request_organisation_to_placements_insert ON childcare_childcarerequest;
DROP TRIGGER childcare_request_organisation_to_placements ON childcare_childcarerequest;
DROP FUNCTION childcare_request_organisation_to_placements();
DROP TRIGGER childcare_placement_request_organisation ON childcare_placement;
DROP FUNCTION childcare_placement_request_organisation();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("childcare", "0005_figures_indexes"),
        ("organisations", "0004_territory_role_archivist"),
    ]

    operations = [
        migrations.AddField(
            model_name="placement",
            name="request_organisation",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="organisations.organisation",
                verbose_name="organisation qui a demandé",
            ),
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
