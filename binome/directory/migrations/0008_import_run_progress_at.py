"""The worker's last sign of life on an import run, to tell an interrupted run (its worker
was killed) from a long one."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0007_import_content_hash"),
    ]

    operations = [
        migrations.AddField(
            model_name="importrun",
            name="progress_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="dernier avancement le"),
        ),
    ]
