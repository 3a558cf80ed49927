from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models

from binome.core.text import normalize


class Department(models.Model):
    """A French département: the unit a territory of Binôme is deployed on."""

    code = models.CharField("code", max_length=3, primary_key=True)
    name = models.CharField("nom", max_length=100)

    class Meta:
        verbose_name = "département"
        verbose_name_plural = "départements"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Epci(models.Model):
    """An EPCI à fiscalité propre (métropole, communauté urbaine, d'agglomération or de
    communes): a group of communes, named by its SIREN in data·inclusion's eligibility
    zones. Bundled referential: ``data/epci.SOURCE.md``."""

    siren = models.CharField("SIREN", max_length=9, primary_key=True)
    name = models.CharField("nom", max_length=200)
    kind = models.CharField("type", max_length=10)  # METRO, MET69, CU, CA, CC

    class Meta:
        verbose_name = "EPCI"
        verbose_name_plural = "EPCI"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CommuneQuerySet(models.QuerySet["Commune"]):
    def search(self, text: str, *, limit: int = 10) -> list[Commune]:
        """Communes whose name or postal code matches what a user typed.

        A postal code (digits) matches by prefix on the postal codes array; words match
        by prefix on the accent-free name, then by trigram similarity (typos), the most
        populated first.
        """
        query = normalize(text)[:80]
        if not query:
            return []
        if query.replace(" ", "").isdigit():
            digits = query.replace(" ", "")
            if len(digits) == 5:
                qs = self.filter(postal_codes__contains=[digits])
            else:
                qs = self.filter(postal_codes_text__contains=f" {digits}")
            found: list[Commune] = list(
                qs.select_related("department").order_by("-population")[:limit]
            )
            return found
        prefix: list[Commune] = list(
            self.filter(search_name__startswith=query)
            .select_related("department")
            .order_by("-population")[:limit]
        )
        if len(prefix) >= limit:
            return prefix
        from django.contrib.postgres.search import TrigramWordSimilarity

        # "search_name %> query" is served by the GIN trigram index; its threshold
        # (pg_trgm.word_similarity_threshold) is set on each connection in the settings.
        fuzzy = (
            self.filter(search_name__trigram_word_similar=query)
            .annotate(similarity=TrigramWordSimilarity(query, "search_name"))
            .exclude(pk__in=[c.pk for c in prefix])
            .select_related("department")
            .order_by("-similarity", "-population")[: limit - len(prefix)]
        )
        return prefix + [commune for commune in fuzzy]


class Commune(models.Model):
    """A commune of the INSEE COG, with its postal codes, centre and population."""

    insee_code = models.CharField("code INSEE", max_length=5, primary_key=True)
    name = models.CharField("nom", max_length=100)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="communes", verbose_name="département"
    )
    postal_codes = ArrayField(models.CharField(max_length=5), verbose_name="codes postaux")
    # Space-prefixed copy of postal_codes (" 83000 83100"): a GIN trigram index serves
    # the prefix search of any code a user types (" 830" → 83000, 83037…).
    postal_codes_text = models.TextField(editable=False)
    latitude = models.FloatField("latitude")
    longitude = models.FloatField("longitude")
    population = models.PositiveIntegerField("population", default=0)
    # Its EPCI à fiscalité propre: every commune has one but four islands. The search
    # reads ``epci_id`` from the commune it already has: no join per service.
    epci = models.ForeignKey(
        Epci,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="communes",
        verbose_name="EPCI",
    )
    # Lower-case, accent-free name ("saint etienne du gres"): prefix search (btree
    # text_pattern_ops) and typo-tolerant search (GIN trigram).
    search_name = models.CharField(max_length=100, editable=False)

    objects = CommuneQuerySet.as_manager()

    class Meta:
        verbose_name = "commune"
        verbose_name_plural = "communes"
        ordering = ["name"]
        indexes = [
            models.Index(
                OpClass("search_name", name="varchar_pattern_ops"), name="commune_name_prefix"
            ),
            GinIndex(OpClass("search_name", name="gin_trgm_ops"), name="commune_name_trgm"),
            GinIndex(
                OpClass("postal_codes_text", name="gin_trgm_ops"), name="commune_postcode_trgm"
            ),
            GinIndex(fields=["postal_codes"], name="commune_postal_codes"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.main_postal_code})"

    def save(self, *args: object, **kwargs: object) -> None:
        self.search_name = normalize(self.name)
        self.postal_codes_text = "".join(f" {code}" for code in self.postal_codes)
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def main_postal_code(self) -> str:
        return self.postal_codes[0] if self.postal_codes else ""
