"""Search: the remote services' words, by their eligibility zone.

A search with words near a commune read every remote service holding the words (one
partial GIN index, 7,000 services), then dropped those whose eligibility zone left the
commune out: two in five of them, each read from the table. The remote services open to
the whole country (no zone, or « france »: 4,300 on the national data set) now have their
words' index; the others (2,900) an index of their zone's codes and their words together,
from which a search reads only those of the commune's zone. Both are partial on
conditions the search writes as they are written here (``search.REMOTE_CONDITION``,
``search.OPEN_ZONE``). Built in under a second each on the national data set.
"""

import django.contrib.postgres.indexes
from django.db import migrations, models

REMOTE_SERVICE = models.Q(reception_modes__contains=["a-distance"])
OPEN_ZONE = models.Q(eligibility_zone=[]) | models.Q(eligibility_zone__contains=["france"])


class Migration(migrations.Migration):
    dependencies = [("directory", "0013_service_ranking_terms")]

    operations = [
        migrations.AddIndex(
            model_name="service",
            index=django.contrib.postgres.indexes.GinIndex(
                condition=REMOTE_SERVICE & OPEN_ZONE,
                fields=["match_vector"],
                name="service_remote_open_words",
            ),
        ),
        migrations.AddIndex(
            model_name="service",
            index=django.contrib.postgres.indexes.GinIndex(
                condition=REMOTE_SERVICE & ~OPEN_ZONE,
                fields=["eligibility_zone", "match_vector"],
                name="service_remote_zoned_words",
            ),
        ),
        migrations.RemoveIndex(model_name="service", name="service_remote_match_vector"),
    ]
