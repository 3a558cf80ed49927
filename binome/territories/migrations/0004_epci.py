"""EPCI à fiscalité propre and the EPCI of each commune (``data/epci.csv``, DGCL 2026,
Licence Ouverte): the directory's search matches a service eligible for an EPCI from
its member communes."""

import django.db.models.deletion
from django.db import migrations, models


def load(apps, schema_editor):
    from binome.territories.referential import load_epci

    load_epci(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("territories", "0003_commune_search_name_ligatures"),
    ]

    operations = [
        migrations.CreateModel(
            name="Epci",
            fields=[
                (
                    "siren",
                    models.CharField(
                        max_length=9, primary_key=True, serialize=False, verbose_name="SIREN"
                    ),
                ),
                ("name", models.CharField(max_length=200, verbose_name="nom")),
                ("kind", models.CharField(max_length=10, verbose_name="type")),
            ],
            options={
                "verbose_name": "EPCI",
                "verbose_name_plural": "EPCI",
                "ordering": ["name"],
            },
        ),
        migrations.AddField(
            model_name="commune",
            name="epci",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="communes",
                to="territories.epci",
                verbose_name="EPCI",
            ),
        ),
        migrations.RunPython(load, migrations.RunPython.noop),
    ]
