"""Search: a point of the Earth that PostgreSQL computes inline, not through a function call.

Migration 0002 wrapped ``ll_to_earth`` in ``directory_earth_point`` with ``SET search_path``
so that the GiST index did not depend on the session's search_path. A function with a
``SET`` clause is never inlined: each call saves and restores the setting and runs the SQL
function executor. A search around Paris evaluates it a few times on each of ~4,000
candidate rows, and that alone took most of the query (EXPLAIN ANALYZE of the catégorie
"famille" within 30 km of Paris on the national data set, same machine, same load:
290 ms before, 97 ms once inlined).

The new body is a SQL-standard one (``RETURN …``): PostgreSQL parses it once, when the
function is created, and stores it with its references resolved (``public.cube``,
``public.earth``): it cannot depend on the search_path of whoever calls it, which was the
point of the ``SET`` clause. It is not STRICT (a STRICT function is inlined only when its
body is strict, and ``earth()`` is not declared so; a missing coordinate still gives
NULL, since ``cube`` is strict) and returns a plain ``cube`` instead of the ``earth``
domain, whose CHECK would run on every row. The planner then expands the call into
``cube(cube(cube(x), y), z)`` both in the index definition and in the queries, which still
match: the GiST index is rebuilt on the new expansion.
"""

import django.contrib.postgres.indexes
from django.db import migrations, models

EARTH_POINT = """
DROP FUNCTION directory_earth_point(double precision, double precision);
CREATE FUNCTION directory_earth_point(latitude double precision, longitude double precision)
RETURNS public.cube
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN public.cube(
    public.cube(
        public.cube(public.earth() * cos(radians(latitude)) * cos(radians(longitude))),
        public.earth() * cos(radians(latitude)) * sin(radians(longitude))
    ),
    public.earth() * sin(radians(latitude))
);
"""

PREVIOUS_EARTH_POINT = """
DROP FUNCTION directory_earth_point(double precision, double precision);
CREATE FUNCTION directory_earth_point(latitude double precision, longitude double precision)
RETURNS public.earth
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = public, pg_catalog
AS $$ SELECT public.ll_to_earth(latitude, longitude) $$;
"""


def _earth_point_index() -> django.contrib.postgres.indexes.GistIndex:
    return django.contrib.postgres.indexes.GistIndex(
        models.Func(
            models.F("latitude"),
            models.F("longitude"),
            function="directory_earth_point",
            output_field=models.FloatField(),
        ),
        name="service_earth_point",
    )


class Migration(migrations.Migration):
    dependencies = [("directory", "0002_search")]

    operations = [
        # The index depends on the function: dropped first, rebuilt on the new body.
        migrations.RemoveIndex(model_name="service", name="service_earth_point"),
        migrations.RunSQL(EARTH_POINT, PREVIOUS_EARTH_POINT),
        migrations.AddIndex(model_name="service", index=_earth_point_index()),
    ]
