"""Load the bundled referential of départements, communes (INSEE COG) and EPCI (DGCL),
all under the Licence Ouverte.

Sources and licences: ``data/communes.SOURCE.md``, ``data/epci.SOURCE.md``. Loaded with
COPY into temporary tables, then upserted: a re-run changes only what changed.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from binome.core.text import normalize

DATA = Path(__file__).parent / "data"


def load_referential(connection: Any) -> tuple[int, int, int]:
    """Upsert départements, communes and EPCI; returns the counts read of each."""
    departments, communes = load_communes(connection)
    return departments, communes, load_epci(connection)


def load_communes(connection: Any) -> tuple[int, int]:
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


def load_epci(connection: Any) -> int:
    """Upsert the EPCI and set each commune's EPCI (after the communes); returns the
    number of EPCI read. A commune no longer in any EPCI loses it."""
    with (DATA / "epci.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE tmp_epci (siren text PRIMARY KEY, name text, kind text)"
            " ON COMMIT DROP;"
            "CREATE TEMP TABLE tmp_epci_member (insee_code text PRIMARY KEY, siren text)"
            " ON COMMIT DROP;"
        )
        with cursor.copy("COPY tmp_epci FROM STDIN") as copy:
            for row in rows:
                copy.write_row((row["siren"], row["nom"], row["type"]))
        with cursor.copy("COPY tmp_epci_member FROM STDIN") as copy:
            for row in rows:
                for code in row["communes"].split(";"):
                    copy.write_row((code, row["siren"]))
        # Statistics for the temporary tables: without them, and with the communes just
        # reloaded, the planner may pick a nested loop over 35,000 x 35,000 rows.
        cursor.execute("ANALYZE tmp_epci; ANALYZE tmp_epci_member")
        cursor.execute(
            "INSERT INTO territories_epci (siren, name, kind) SELECT siren, name, kind"
            " FROM tmp_epci ON CONFLICT (siren) DO UPDATE SET"
            " name = EXCLUDED.name, kind = EXCLUDED.kind"
            " WHERE (territories_epci.name, territories_epci.kind)"
            " IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.kind)"
        )
        cursor.execute(
            "UPDATE territories_commune c SET epci_id = m.siren FROM tmp_epci_member m"
            " WHERE m.insee_code = c.insee_code AND c.epci_id IS DISTINCT FROM m.siren"
        )
        cursor.execute(
            "UPDATE territories_commune c SET epci_id = NULL WHERE c.epci_id IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM tmp_epci_member m WHERE m.insee_code = c.insee_code)"
        )
        cursor.execute(
            "DELETE FROM territories_epci e WHERE NOT EXISTS"
            " (SELECT 1 FROM tmp_epci t WHERE t.siren = e.siren)"
        )
    return len(rows)
