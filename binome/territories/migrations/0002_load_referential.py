from django.db import migrations


def load(apps, schema_editor):
    from binome.territories.referential import load_communes

    load_communes(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("territories", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
