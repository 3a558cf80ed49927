"""Load the bundled referential of départements and communes (INSEE COG, Licence Ouverte).

Source and licence: ``data/communes.SOURCE.md``. Loaded with COPY into a temporary
table, then upserted: a re-run changes only what changed.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from binome.core.text import normalize

DATA = Path(__file__).parent / "data"


def load_referential(connection: Any) -> tuple[int, int]:
    """Upsert départements and communes; returns (départements, communes) counts read."""
    with (DATA / "departements.csv").open(encoding="utf-8") as handle:
        departments: list[tuple[str, ...]] = [
            (row["code"], row["nom"]) for row in csv.DictReader(handle)
        ]
    with (DATA / "communes.csv").open(encoding="utf-8") as handle:
        communes = [
            (
                row["code_insee"],
                row["nom"],
                row["code_departement"],
                "{" + ",".join(row["codes_postaux"].split(";")) + "}",
                "".join(f" {code}" for code in row["codes_postaux"].split(";")),
                row["latitude"],
                row["longitude"],
                row["population"] or "0",
                normalize(row["nom"]),
            )
            for row in csv.DictReader(handle)
        ]
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE tmp_department (code text, name text) ON COMMIT DROP;"
            "CREATE TEMP TABLE tmp_commune (insee_code text, name text, department_id text,"
            " postal_codes varchar(5)[], postal_codes_text text, latitude float8,"
            " longitude float8, population int, search_name text) ON COMMIT DROP;"
        )
        with cursor.copy("COPY tmp_department FROM STDIN") as copy:
            for row in departments:
                copy.write_row(row)
        with cursor.copy("COPY tmp_commune FROM STDIN") as copy:
            for row in communes:
                copy.write_row(row)
        cursor.execute(
            "INSERT INTO territories_department (code, name) SELECT code, name FROM tmp_department"
            " ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name"
            " WHERE territories_department.name IS DISTINCT FROM EXCLUDED.name"
        )
        cursor.execute(
            "INSERT INTO territories_commune (insee_code, name, department_id, postal_codes,"
            " postal_codes_text, latitude, longitude, population, search_name)"
            " SELECT * FROM tmp_commune ON CONFLICT (insee_code) DO UPDATE SET"
            " name = EXCLUDED.name, department_id = EXCLUDED.department_id,"
            " postal_codes = EXCLUDED.postal_codes, postal_codes_text = EXCLUDED.postal_codes_text,"
            " latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude,"
            " population = EXCLUDED.population, search_name = EXCLUDED.search_name"
        )
    return len(departments), len(communes)
