"""A page of a queryset in one query: the rows and their total (``count(*) OVER ()``).

Django's ``Paginator`` counts first, then fetches the page: two round trips on every
page. ``window_page`` asks for the page's rows with the total in the same statement and
returns a regular :class:`~django.core.paginator.Page` (the pagination template is the
same). Only a page number past the end costs more (then it falls back to the last page,
as ``Paginator.get_page`` does).
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, QuerySet, Window

TOTAL = "_window_total"
# Past this page number a list is surely shorter: the number is taken as past the end (the
# last page), so that no OFFSET beyond PostgreSQL's bigint is ever asked for.
MAX_PAGE = 1_000_000


def window_page(queryset: QuerySet[Any], number: object, per_page: int) -> Page:
    """The page ``number`` (a query parameter: anything invalid means the first page)."""
    try:
        wanted = min(max(1, int(str(number))), MAX_PAGE)
    except (TypeError, ValueError):
        wanted = 1
    start = (wanted - 1) * per_page
    rows = list(queryset.annotate(**{TOTAL: Window(Count("*"))})[start : start + per_page])
    paginator = Paginator(queryset, per_page)
    if not rows and wanted > 1:
        return paginator.get_page(wanted)  # past the end: the last page (two queries)
    paginator.count = getattr(rows[0], TOTAL) if rows else 0
    page = paginator.page(wanted)
    page.object_list = rows
    return page
