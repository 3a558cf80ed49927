"""A page of a queryset in one query: the rows and their total (``count(*) OVER ()``).

Django's ``Paginator`` counts first, then fetches the page: two round trips on every
page. ``window_page`` asks for the page's rows with the total in the same statement and
returns a regular :class:`~django.core.paginator.Page` (the pagination template is the
same). Only a page number past the end costs more (then it falls back to the last page,
as ``Paginator.get_page`` does).

``keyed_page`` is the same page, in one statement too, for a long list of wide rows whose
filters and order an index answers alone: the page's keys and the total are found on the
narrow query (an index-only scan), and only the page's rows are read and joined.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, F, Func, QuerySet, Subquery, Window

TOTAL = "_window_total"
# Past this page number a list is surely shorter: the number is taken as past the end (the
# last page), so that no OFFSET beyond PostgreSQL's bigint is ever asked for.
MAX_PAGE = 1_000_000


def _wanted(number: object) -> int:
    try:
        return min(max(1, int(str(number))), MAX_PAGE)
    except (TypeError, ValueError):
        return 1


def window_page(queryset: QuerySet[Any], number: object, per_page: int) -> Page:
    """The page ``number`` (a query parameter: anything invalid means the first page)."""
    wanted = _wanted(number)
    start = (wanted - 1) * per_page
    rows = list(queryset.annotate(**{TOTAL: Window(Count("*"))})[start : start + per_page])
    paginator = Paginator(queryset, per_page)
    if not rows and wanted > 1:
        return paginator.get_page(wanted)  # past the end: the last page (two queries)
    paginator.count = getattr(rows[0], TOTAL) if rows else 0
    page = paginator.page(wanted)
    page.object_list = rows
    return page


def count_query(queryset: QuerySet[Any]) -> QuerySet[Any]:
    """``SELECT count(id) FROM … WHERE …``: the rows' count as a one-value query, to use as a
    sub-query (``Subquery``)."""
    return queryset.order_by().annotate(_count=Func(F("pk"), function="count")).values("_count")


def keyed_page(keys: QuerySet[Any], rows: QuerySet[Any], number: object, per_page: int) -> Page:
    """The page ``number`` of ``keys`` (the list's filters and order), its rows read with
    ``rows`` (the same model, ordered alike, with the joins and columns the page shows).

    One statement: the rows whose key is among the page's (``keys`` sliced, a sub-query),
    each with the total (an uncorrelated sub-query counting ``keys``, computed once). Past
    the end, the last page (three queries).
    """
    wanted = _wanted(number)
    start = (wanted - 1) * per_page
    page_rows = list(
        rows.filter(pk__in=keys.values("pk")[start : start + per_page]).annotate(
            **{TOTAL: Subquery(count_query(keys))}
        )
    )
    if not page_rows and wanted > 1:
        count = keys.count()
        return keyed_page(keys, rows, max(1, -(-count // per_page)), per_page)
    paginator = Paginator(keys, per_page)
    paginator.count = getattr(page_rows[0], TOTAL) if page_rows else 0
    page = paginator.page(wanted)
    page.object_list = page_rows
    return page
