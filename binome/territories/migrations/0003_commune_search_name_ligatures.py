"""Communes' search keys recomputed after ``normalize`` learnt the ligatures.

``normalize`` dropped the letters Unicode does not decompose: "Marcq-en-Barœul" was stored
as "marcq en barul", so typing "baroeul" did not find it; it is now "marcq en baroeul",
as PostgreSQL's ``unaccent`` spells it. Only the keys that change are written (about a
hundred communes).
"""

from typing import Any

from django.db import migrations


def recompute(apps: Any, schema_editor: Any) -> None:
    from binome.core.text import normalize

    Commune = apps.get_model("territories", "Commune")
    changed = []
    for commune in Commune.objects.only("insee_code", "name", "search_name").iterator():
        key = normalize(commune.name)
        if key != commune.search_name:
            commune.search_name = key
            changed.append(commune)
    Commune.objects.bulk_update(changed, ["search_name"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("territories", "0002_load_referential")]

    operations = [migrations.RunPython(recompute, migrations.RunPython.noop)]
