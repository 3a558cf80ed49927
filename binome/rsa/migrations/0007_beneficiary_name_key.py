# « À orienter »'s search by name, on its index: the names' key (``rsa_name_key``: lower case,
# no accents, any character other than a-z and 0-9 a single space, as ``normalize`` and the
# directory's search keys write it) is stored in the partial index ``rsa_beneficiary_to_orient``,
# and the list compares the typed words with it. Before, each row of the département's index
# paid ``upper(unaccent(…))`` twice, for the page and again for the total: the page's statement
# for « Mansouri » in the Nord (11,103 persons to orient) took 55 ms under EXPLAIN ANALYZE on a
# loaded machine, 13 ms reading the stored key (same machine, same hour).
#
# The function is declared IMMUTABLE, which an index expression requires: ``unaccent`` is only
# STABLE because its rules file could change (it is called here with its dictionary named,
# whatever the search_path). COST 1: the key is read from the index, not computed for each
# row, which the planner would otherwise assume (and send a small scan to parallel workers).
# Only the index is rebuilt (the persons to orient, not the table).

import binome.rsa.models
from django.db import migrations, models

FUNCTION = """
CREATE FUNCTION rsa_name_key(first_name text, last_name text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE COST 1
RETURN trim(regexp_replace(
    lower(public.unaccent('public.unaccent'::regdictionary,
                          coalesce(first_name, '') || ' ' || coalesce(last_name, ''))),
    '[^a-z0-9]+', ' ', 'g'
));
"""


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0004_person_archived_until"),
        ("rsa", "0006_orientation_notified_covering"),
        ("territories", "0004_epci"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="beneficiary",
            name="rsa_beneficiary_to_orient",
        ),
        migrations.RunSQL(FUNCTION, "DROP FUNCTION rsa_name_key(text, text);"),
        migrations.AddIndex(
            model_name="beneficiary",
            index=models.Index(
                models.F("department"),
                models.F("orientation_due_on"),
                models.F("id"),
                binome.rsa.models.NameKey(),
                condition=models.Q(
                    ("dossier_state__in", ("0", "2", "3", "4")),
                    ("orientation_due_on__isnull", False),
                    ("oriented_on__isnull", True),
                    ("person__isnull", False),
                    ("subject_to_rights_and_duties", True),
                ),
                include=("no_fixed_address", "first_name", "last_name"),
                name="rsa_beneficiary_to_orient",
            ),
        ),
        migrations.RunSQL("ANALYZE rsa_beneficiary", migrations.RunSQL.noop),
    ]
