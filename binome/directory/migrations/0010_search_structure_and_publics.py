"""Search: the words may be spread over the service, its structure and its publics.

Before, the typed words were looked for in the service's own vector only (name, structure
name, thématique labels, description): « logement d'urgence » found no service whose
publics say « Personnes en situation d'urgence », nor one whose structure's description
says what it does.

``match_vector`` is what the search's ``@@`` reads (GIN "service_match_vector"): the
service's ``search_vector`` followed by, at weight D, the labels of its publics, its
« précisions sur les publics » and its structure's description. The ranking still reads
``search_vector`` alone, to put first the services that hold every word themselves
(``binome.directory.search``).

Kept by a row trigger on every writer (the ORM, the generator's COPY, the importer's
set-based INSERT and UPDATE, which write ``search_vector`` themselves: this trigger is
named to fire after ``directory_service_search_fields``, and on the update of any column
it reads, ``search_vector`` included). A structure whose description changes re-touches
its services (``SET publics = publics``: only this trigger fires for them).

The vocabulary of typos (``directory_search_word``, migration 0006) now takes its words
from ``match_vector``, so a word of a public or of a structure's description is known and
never « corrected » into another.

``service_search_vector`` is dropped: no query reads ``search_vector @@`` through an index
any more (one GIN index less to maintain on each write and import).
"""

import json

import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.db import migrations


def _publics_labels() -> str:
    from binome.directory import referentials as ref

    return json.dumps(dict(ref.PUBLICS), ensure_ascii=False).replace("'", "''")


# The labels come from the referential when the migration runs, their quotes doubled.
FUNCTIONS = f"""
CREATE FUNCTION directory_publics_labels(codes varchar[])
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (
    SELECT coalesce(string_agg(labels.codes ->> code, ' '), '')
    FROM unnest(codes) AS code, (SELECT '{_publics_labels()}'::jsonb AS codes) AS labels
);

CREATE FUNCTION directory_service_match_vector() RETURNS trigger
LANGUAGE plpgsql
SET search_path = public, pg_catalog
AS $$
BEGIN
    NEW.match_vector := coalesce(NEW.search_vector, ''::tsvector) || setweight(
        to_tsvector('french_unaccent'::regconfig, concat_ws(' ',
            directory_publics_labels(NEW.publics),
            left(NEW.publics_details, 2000),
            (SELECT left(st.description, 20000) FROM directory_structure st
             WHERE st.id = NEW.structure_id))),
        'D');
    RETURN NEW;
END
$$;

-- After "directory_service_search_fields" (BEFORE triggers fire in the order of their names).
CREATE TRIGGER directory_service_text_match
    BEFORE INSERT OR UPDATE OF name, description, thematiques, structure_id, publics,
        publics_details, search_vector
    ON directory_service
    FOR EACH ROW EXECUTE FUNCTION directory_service_match_vector();

CREATE FUNCTION directory_structure_described() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    UPDATE directory_service SET publics = publics WHERE structure_id = NEW.id;
    RETURN NEW;
END
$$;

CREATE TRIGGER directory_structure_described
    AFTER UPDATE OF description ON directory_structure
    FOR EACH ROW WHEN (OLD.description IS DISTINCT FROM NEW.description)
    EXECUTE FUNCTION directory_structure_described();

CREATE OR REPLACE FUNCTION directory_search_words_added() RETURNS trigger
LANGUAGE plpgsql
SET search_path = public, pg_catalog
AS $$
BEGIN
    INSERT INTO directory_search_word (word)
    SELECT DISTINCT lexeme
    FROM written_rows, unnest(tsvector_to_array(written_rows.match_vector)) AS lexeme
    ON CONFLICT (word) DO NOTHING;
    RETURN NULL;
END
$$;

-- The services written before this migration (and their new words).
UPDATE directory_service SET publics = publics;
"""  # noqa: S608

DROP_FUNCTIONS = """
CREATE OR REPLACE FUNCTION directory_search_words_added() RETURNS trigger
LANGUAGE plpgsql
SET search_path = public, pg_catalog
AS $$
BEGIN
    INSERT INTO directory_search_word (word)
    SELECT DISTINCT lexeme
    FROM written_rows, unnest(tsvector_to_array(written_rows.search_vector)) AS lexeme
    ON CONFLICT (word) DO NOTHING;
    RETURN NULL;
END
$$;
DROP TRIGGER directory_structure_described ON directory_structure;
DROP FUNCTION directory_structure_described();
DROP TRIGGER directory_service_text_match ON directory_service;
DROP FUNCTION directory_service_match_vector();
DROP FUNCTION directory_publics_labels(varchar[]);
"""


class Migration(migrations.Migration):
    dependencies = [("directory", "0009_search_functions_inlined")]

    operations = [
        migrations.AddField(
            model_name="service",
            name="match_vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.RunSQL(FUNCTIONS, DROP_FUNCTIONS),
        migrations.RemoveIndex(model_name="service", name="service_search_vector"),
        migrations.AddIndex(
            model_name="service",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["match_vector"], name="service_match_vector"
            ),
        ),
    ]
