"""Search: typos corrected against a vocabulary, instead of a trigram match on every name.

Before, a search with words matched ``search_vector @@ query OR search_name %> words``:
the typo branch read, for a common word ("formation"), the trigram index entries of tens
of thousands of names before the place and the catégorie narrowed them (34 to 55 ms of a
60 ms query in ``EXPLAIN ANALYZE`` on the national data set).

Now the typed words are corrected first, against ``directory_search_word``: the distinct
lexemes of the services' search vectors (name, structure name, thématique labels,
description; about 17,000 for the 150,000 services of the national data set). A typed
word whose lexeme is in the vocabulary is kept as it is; an unknown one ("formaton",
"alimantaire", "urgense") is replaced by the closest lexemes of the vocabulary by trigram
similarity (the GIN trigram index of this small table answers in a millisecond or two).
The services are then searched by the full-text GIN index alone.

The vocabulary is kept by two statement-level triggers on ``directory_service`` (after
INSERT, after UPDATE), which add the lexemes of the rows written by the statement, in one
set-based ``INSERT … ON CONFLICT DO NOTHING``: every writer (the ORM, COPY, the importer's
set-based statements) keeps it complete. Lexemes are never removed when a service goes:
a lexeme that no longer matches any service only adds an alternative that finds nothing.

The trigram index on the services' names (``service_name_trgm``) is no longer read by the
search: dropped (one GIN index less to maintain on each write and import).
"""

import django.contrib.postgres.indexes
from django.db import migrations, models

TRIGGERS = """
CREATE FUNCTION directory_search_words_added() RETURNS trigger
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

-- A trigger with transition tables has one event: one for INSERT, one for UPDATE.
CREATE TRIGGER directory_search_words_inserted
    AFTER INSERT ON directory_service
    REFERENCING NEW TABLE AS written_rows
    FOR EACH STATEMENT EXECUTE FUNCTION directory_search_words_added();

CREATE TRIGGER directory_search_words_updated
    AFTER UPDATE ON directory_service
    REFERENCING NEW TABLE AS written_rows
    FOR EACH STATEMENT EXECUTE FUNCTION directory_search_words_added();

-- The services written before this migration.
INSERT INTO directory_search_word (word)
SELECT DISTINCT lexeme
FROM directory_service, unnest(tsvector_to_array(search_vector)) AS lexeme
ON CONFLICT (word) DO NOTHING;
"""

DROP_TRIGGERS = """
DROP TRIGGER directory_search_words_updated ON directory_service;
DROP TRIGGER directory_search_words_inserted ON directory_service;
DROP FUNCTION directory_search_words_added();
"""


class Migration(migrations.Migration):
    dependencies = [("directory", "0005_import_runs_and_search_functions")]

    operations = [
        migrations.CreateModel(
            name="SearchWord",
            fields=[
                (
                    "word",
                    models.TextField(primary_key=True, serialize=False, verbose_name="lexème"),
                ),
            ],
            options={
                "db_table": "directory_search_word",
                "verbose_name": "mot de l'annuaire",
                "verbose_name_plural": "mots de l'annuaire",
                "indexes": [
                    django.contrib.postgres.indexes.GinIndex(
                        django.contrib.postgres.indexes.OpClass("word", name="gin_trgm_ops"),
                        name="search_word_trgm",
                    )
                ],
            },
        ),
        migrations.RunSQL(TRIGGERS, DROP_TRIGGERS),
        migrations.RemoveIndex(model_name="service", name="service_name_trgm"),
    ]
