"""The fingerprint of the file's row each structure and service was last imported from.

A re-run of an import skips the rows whose fingerprint did not change: no check, no
write (``binome.directory.importer.content_hash``). A constant default: adding the column
rewrites no row. Rows imported before get their fingerprint at their next import.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0006_search_words"),
    ]

    operations = [
        migrations.AddField(
            model_name="service",
            name="content_hash",
            field=models.CharField(
                blank=True,
                db_default="",
                default="",
                editable=False,
                max_length=32,
                verbose_name="empreinte du dernier import",
            ),
        ),
        migrations.AddField(
            model_name="structure",
            name="content_hash",
            field=models.CharField(
                blank=True,
                db_default="",
                default="",
                editable=False,
                max_length=32,
                verbose_name="empreinte du dernier import",
            ),
        ),
    ]
