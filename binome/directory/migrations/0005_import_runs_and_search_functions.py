"""Imports started from the territory page (``ImportRun``, ``ImportFile``), and the search
columns of a service computed by two SQL functions, used by the trigger and
by set-based writers alike.

``directory_search_name(name)`` and ``directory_search_vector(name, structure_name,
thematiques, description)`` are now the one definition of the text that search reads
(migration 0002 had it inside the trigger). The trigger calls them for every row, as
before; the directory importer calls them in its own ``INSERT``/``UPDATE`` statements
(one join with the structures for the whole import instead of one lookup per row) and
asks the trigger to step aside for those statements only, with the transaction-local
setting ``binome.search_columns_by_statement = 'on'``. Any other writer (ORM, COPY,
``psql``) never sets it, so the trigger keeps every row's columns right.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


FUNCTIONS = """
CREATE FUNCTION directory_search_name(name text)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = public, pg_catalog
AS $$ SELECT lower(public.unaccent(coalesce(name, ''))) $$;

CREATE FUNCTION directory_search_vector(
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

CREATE OR REPLACE FUNCTION directory_service_search_fields() RETURNS trigger
LANGUAGE plpgsql
SET search_path = public, pg_catalog
AS $$
BEGIN
    -- A set-based writer (the importer) computes the columns in its own statement.
    IF current_setting('binome.search_columns_by_statement', true) = 'on' THEN
        RETURN NEW;
    END IF;
    NEW.search_name := directory_search_name(NEW.name);
    NEW.search_vector := directory_search_vector(
        NEW.name,
        (SELECT s.name FROM directory_structure s WHERE s.id = NEW.structure_id),
        NEW.thematiques,
        NEW.description
    );
    RETURN NEW;
END
$$;
"""

# Back to migration 0002's trigger function, which held the definition itself.
REVERSE = """
CREATE OR REPLACE FUNCTION directory_service_search_fields() RETURNS trigger
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
DROP FUNCTION directory_search_vector(text, text, varchar[], text);
DROP FUNCTION directory_search_name(text);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0004_editing_moderation_reports_reminders"),
        ("territories", "0002_load_referential"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunSQL(FUNCTIONS, REVERSE),
        migrations.CreateModel(
            name="ImportRun",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("queued", "En attente"),
                            ("running", "En cours"),
                            ("done", "Terminé"),
                            ("failed", "Échec"),
                        ],
                        default="queued",
                        max_length=20,
                        verbose_name="état",
                    ),
                ),
                ("stage", models.CharField(blank=True, max_length=100, verbose_name="étape")),
                (
                    "percent",
                    models.PositiveSmallIntegerField(default=0, verbose_name="avancement (%)"),
                ),
                ("rows_total", models.PositiveIntegerField(default=0, verbose_name="lignes lues")),
                (
                    "rows_checked",
                    models.PositiveIntegerField(default=0, verbose_name="lignes contrôlées"),
                ),
                ("counts", models.JSONField(blank=True, default=dict, verbose_name="résultats")),
                (
                    "rejected",
                    models.JSONField(blank=True, default=list, verbose_name="lignes rejetées"),
                ),
                (
                    "rejected_rows",
                    models.PositiveIntegerField(
                        default=0, verbose_name="nombre de lignes rejetées"
                    ),
                ),
                ("errors", models.JSONField(blank=True, default=list, verbose_name="erreurs")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="demandé le")),
                (
                    "started_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="commencé le"),
                ),
                (
                    "finished_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="terminé le"),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="lancé par",
                    ),
                ),
                (
                    "department",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="territories.department",
                        verbose_name="territoire",
                    ),
                ),
            ],
            options={
                "verbose_name": "import de l'annuaire",
                "verbose_name_plural": "imports de l'annuaire",
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="ImportFile",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=255, verbose_name="nom")),
                ("size", models.PositiveIntegerField(verbose_name="taille (octets)")),
                ("content", models.BinaryField(verbose_name="contenu")),
                (
                    "run",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="files",
                        to="directory.importrun",
                        verbose_name="import",
                    ),
                ),
            ],
            options={
                "verbose_name": "fichier importé",
                "verbose_name_plural": "fichiers importés",
                "ordering": ["id"],
            },
        ),
        migrations.AddIndex(
            model_name="importrun",
            index=models.Index(fields=["department", "-created_at"], name="importrun_department"),
        ),
    ]
