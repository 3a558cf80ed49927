"""Search: the ranking's terms that are the service's own, written by PostgreSQL.

Every search computed, for each service it found, what a counselor needs to act (a phone
or an e-mail, mobilisation details or a link) and whether the service is past its update
frequency: four text comparisons, a date sum and three CASEs per candidate, a tenth of a
search with words across France (thousands of candidates). Two generated columns hold
them now, written on every INSERT and UPDATE whoever writes the row (the ORM, COPY, the
importer): ``completeness`` (0, 0.5 or 1) and ``due_on`` (the last update plus the
update frequency). ``binome.directory.search._BASE`` reads them.

One ALTER TABLE for both columns: the table is rewritten once (21 s on the national data
set, 150,000 services, during which the services are locked).
"""

from django.db import migrations, models

COMPLETENESS = models.GeneratedField(
    expression=models.Case(
        models.When(~models.Q(phone="") | ~models.Q(email=""), then=models.Value(0.5)),
        default=models.Value(0.0),
    )
    + models.Case(
        models.When(
            ~models.Q(mobilisation_details="") | ~models.Q(mobilisation_link=""),
            then=models.Value(0.5),
        ),
        default=models.Value(0.0),
    ),
    output_field=models.FloatField(),
    db_persist=True,
)
DUE_ON = models.GeneratedField(
    expression=models.ExpressionWrapper(
        models.F("updated_on") + models.F("update_frequency_days"),
        output_field=models.DateField(),
    ),
    output_field=models.DateField(),
    db_persist=True,
)


class Migration(migrations.Migration):
    dependencies = [("directory", "0012_search_published_point_words")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    sql="""
                        ALTER TABLE directory_service
                        ADD COLUMN completeness double precision GENERATED ALWAYS AS (
                            CASE WHEN (NOT (phone = '') OR NOT (email = '')) THEN 0.5
                                 ELSE 0.0 END
                            + CASE WHEN (NOT (mobilisation_details = '')
                                         OR NOT (mobilisation_link = '')) THEN 0.5
                                   ELSE 0.0 END
                        ) STORED,
                        ADD COLUMN due_on date GENERATED ALWAYS AS (
                            updated_on + update_frequency_days
                        ) STORED
                    """,
                    reverse_sql="""
                        ALTER TABLE directory_service
                        DROP COLUMN completeness, DROP COLUMN due_on
                    """,
                )
            ],
            state_operations=[
                migrations.AddField(model_name="service", name="completeness", field=COMPLETENESS),
                migrations.AddField(model_name="service", name="due_on", field=DUE_ON),
            ],
        )
    ]
