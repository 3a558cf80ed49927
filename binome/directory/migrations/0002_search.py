"""Search of the directory: French accent-insensitive full text, typos, arrays and place.

Hand-written around what ``makemigrations`` generated for the model's fields and indexes
(each index is explained where it is declared, in ``Service.Meta.indexes``). What the
model cannot declare is SQL here, created before the indexes that use it:

- ``french_unaccent``: the ``french`` text search configuration with the ``unaccent``
  dictionary before ``french_stem``, so "crèche", "creche" and "CRÈCHES" share a lexeme.
- ``directory_earth_point(lat, lon)``: ``ll_to_earth`` wrapped in an IMMUTABLE function
  with a fixed search_path. ``ll_to_earth`` calls ``earth()`` unqualified: an index on it
  breaks when autovacuum or a restore runs with another search_path.
- ``directory_thematique_labels(codes)``: the French labels of thématique codes (and of
  their catégorie), so that "garde d'enfants" finds the services coded
  ``famille--garde-denfants``. The table is taken from the ``data-inclusion-schema``
  package when this migration runs; a new version of the schema with new codes needs a
  migration that replaces the function (and re-touches the rows: ``SET name = name``).
- A trigger that fills ``search_vector`` and ``search_name`` on every INSERT and UPDATE
  of a service, whoever writes: the ORM, COPY (the generator) or the importer's
  ``INSERT … ON CONFLICT``. Computing them in Python would miss the bulk writers. A
  second trigger re-touches a structure's services when its name changes.
"""

import json

import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.db import migrations, models


def _thematique_labels() -> str:
    from binome.directory import referentials as ref

    categories = dict(ref.CATEGORIES)
    labels = {
        code: f"{categories.get(code.split('--', 1)[0], '')} {label}".strip()
        for code, label in ref.THEMATIQUES
    }
    return json.dumps(labels, ensure_ascii=False).replace("'", "''")


# The labels come from the referential, their quotes doubled.
FUNCTIONS = f"""
CREATE TEXT SEARCH CONFIGURATION french_unaccent (COPY = pg_catalog.french);
ALTER TEXT SEARCH CONFIGURATION french_unaccent
    ALTER MAPPING FOR hword, hword_part, word WITH public.unaccent, pg_catalog.french_stem;

CREATE FUNCTION directory_earth_point(latitude double precision, longitude double precision)
RETURNS public.earth
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = public, pg_catalog
AS $$ SELECT public.ll_to_earth(latitude, longitude) $$;

CREATE FUNCTION directory_thematique_labels(codes varchar[])
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT coalesce(string_agg(labels.codes ->> code, ' '), '')
    FROM unnest(codes) AS code,
         (SELECT '{_thematique_labels()}'::jsonb AS codes) AS labels
$$;

CREATE FUNCTION directory_service_search_fields() RETURNS trigger
LANGUAGE plpgsql
SET search_path = public, pg_catalog
AS $$
BEGIN
    NEW.search_name := lower(public.unaccent(coalesce(NEW.name, '')));
    NEW.search_vector :=
        setweight(to_tsvector('french_unaccent', coalesce(NEW.name, '')), 'A')
        || setweight(to_tsvector('french_unaccent', coalesce(
            (SELECT s.name FROM directory_structure s WHERE s.id = NEW.structure_id), '')), 'B')
        || setweight(to_tsvector('french_unaccent',
            directory_thematique_labels(NEW.thematiques)), 'B')
        || setweight(to_tsvector('french_unaccent',
            left(coalesce(NEW.description, ''), 20000)), 'C');
    RETURN NEW;
END
$$;

CREATE TRIGGER directory_service_search_fields
    BEFORE INSERT OR UPDATE OF name, description, thematiques, structure_id
    ON directory_service
    FOR EACH ROW EXECUTE FUNCTION directory_service_search_fields();

CREATE FUNCTION directory_structure_renamed() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    UPDATE directory_service SET name = name WHERE structure_id = NEW.id;
    RETURN NEW;
END
$$;

CREATE TRIGGER directory_structure_renamed
    AFTER UPDATE OF name ON directory_structure
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION directory_structure_renamed();

-- Rows written before this migration.
UPDATE directory_service SET name = name;
"""  # noqa: S608

DROP_FUNCTIONS = """
DROP TRIGGER directory_structure_renamed ON directory_structure;
DROP FUNCTION directory_structure_renamed();
DROP TRIGGER directory_service_search_fields ON directory_service;
DROP FUNCTION directory_service_search_fields();
DROP FUNCTION directory_thematique_labels(varchar[]);
DROP FUNCTION directory_earth_point(double precision, double precision);
DROP TEXT SEARCH CONFIGURATION french_unaccent;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0001_initial"),
        ("territories", "0001_initial"),  # the unaccent, pg_trgm, cube, earthdistance extensions
    ]

    operations = [
        migrations.AddField(
            model_name="service",
            name="search_name",
            field=models.TextField(default="", editable=False),
        ),
        migrations.AddField(
            model_name="service",
            name="search_vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.RunSQL(FUNCTIONS, DROP_FUNCTIONS),
        migrations.AddIndex(
            model_name="service",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["search_vector"], name="service_search_vector"
            ),
        ),
        migrations.AddIndex(
            model_name="service",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.indexes.OpClass("search_name", name="gin_trgm_ops"),
                name="service_name_trgm",
            ),
        ),
        migrations.AddIndex(
            model_name="service",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["thematiques"], name="service_thematiques"
            ),
        ),
        migrations.AddIndex(
            model_name="service",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["publics"], name="service_publics"
            ),
        ),
        migrations.AddIndex(
            model_name="service",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["reception_modes"], name="service_reception_modes"
            ),
        ),
        migrations.AddIndex(
            model_name="service",
            index=django.contrib.postgres.indexes.GistIndex(
                models.Func(
                    models.F("latitude"),
                    models.F("longitude"),
                    function="directory_earth_point",
                    output_field=models.FloatField(),
                ),
                name="service_earth_point",
            ),
        ),
    ]
