"""The services' search columns computed inline, not through a SQL function call per row.

``directory_search_vector`` and ``directory_search_name`` (migration 0005) had
``SET search_path``: a function with a ``SET`` clause is never inlined, so each row paid
the SQL function executor on top of the text search itself. Their new bodies are
SQL-standard ones (``RETURN …``), resolved once when created (the configuration
``french_unaccent``, ``public.unaccent``): they cannot depend on the caller's search_path,
which was the point of the ``SET`` clause, and PostgreSQL expands them into the statement
that calls them (the trigger, the importer's merge). Same text, same vectors.

Measured with ``EXPLAIN ANALYZE``-like timings on 20,000 services of the national data set,
same busy machine, same session: 5.3 to 6.0 s before, 2.5 s after (the parsing and
stemming of the words, which remain, are most of the rest). A national first import
computes 150,000 of them.
"""

from django.db import migrations

INLINED = """
CREATE OR REPLACE FUNCTION directory_search_name(name text)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
RETURN lower(public.unaccent(coalesce(name, '')));
ALTER FUNCTION directory_search_name(text) RESET ALL;

CREATE OR REPLACE FUNCTION directory_search_vector(
    name text, structure_name text, thematiques varchar[], description text
)
RETURNS tsvector
LANGUAGE sql STABLE PARALLEL SAFE
RETURN setweight(to_tsvector('french_unaccent'::regconfig, coalesce(name, '')), 'A')
    || setweight(to_tsvector('french_unaccent'::regconfig, coalesce(structure_name, '')), 'B')
    || setweight(
        to_tsvector('french_unaccent'::regconfig, directory_thematique_labels(thematiques)), 'B'
    )
    || setweight(
        to_tsvector('french_unaccent'::regconfig, left(coalesce(description, ''), 20000)), 'C'
    );
ALTER FUNCTION directory_search_vector(text, text, varchar[], text) RESET ALL;
"""

# Migration 0005's definitions.
PREVIOUS = """
CREATE OR REPLACE FUNCTION directory_search_name(name text)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = public, pg_catalog
AS $$ SELECT lower(public.unaccent(coalesce(name, ''))) $$;

CREATE OR REPLACE FUNCTION directory_search_vector(
    name text, structure_name text, thematiques varchar[], description text
)
RETURNS tsvector
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = public, pg_catalog
AS $$
    SELECT setweight(to_tsvector('french_unaccent', coalesce(name, '')), 'A')
        || setweight(to_tsvector('french_unaccent', coalesce(structure_name, '')), 'B')
        || setweight(to_tsvector('french_unaccent', directory_thematique_labels(thematiques)), 'B')
        || setweight(to_tsvector('french_unaccent', left(coalesce(description, ''), 20000)), 'C')
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("directory", "0008_import_run_progress_at")]

    operations = [migrations.RunSQL(INLINED, PREVIOUS)]
