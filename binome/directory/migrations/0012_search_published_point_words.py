"""Search: the point and the words of each published service in one index.

A search with words near a commune read two indexes and ANDed them: every service in the
place's box (GiST "service_earth_point") and every service of France holding the words
(GIN "service_match_vector": 4,753 rows for « surendettement », to keep the 47 of them
around Chambéry). "service_published_point_words" is a GiST tree of the published
services' points (their boxes first) with their words: the search walks the box and
checks each service's words there, without reading the word's national list.

Where the box holds many services (the Paris region: 20,000 within 30 km), checking the
words of each of them costs more than the two lists ANDed: the search then keeps the two
indexes (``binome.directory.search.crowded_place``). The index is partial on the published
services, and the search writes that condition as a constant only when it wants this
index (``search.PUBLISHED``).

Built in 6 s on the national data set (150,000 services): 50 MB.
"""

import django.contrib.postgres.indexes
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("directory", "0011_search_remote_words")]

    operations = [
        migrations.AddIndex(
            model_name="service",
            index=django.contrib.postgres.indexes.GistIndex(
                models.Func(
                    models.F("latitude"),
                    models.F("longitude"),
                    function="directory_earth_point",
                    output_field=models.FloatField(),
                ),
                models.F("match_vector"),
                condition=models.Q(status="published"),
                name="service_published_point_words",
            ),
        ),
    ]
