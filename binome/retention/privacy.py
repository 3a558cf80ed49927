"""The privacy page's paragraph on the intermediate archive: the territories that keep one,
their duration and their written justification, read from their settings."""

from __future__ import annotations

from typing import Any

from binome.core.privacy import register
from binome.retention.models import ArchiveSettings


@register("retention/privacy_archive.html")
def archive() -> dict[str, Any]:
    return {
        "archives": list(
            ArchiveSettings.objects.filter(enabled=True)
            .select_related("department")
            .order_by("department_id")
        )
    }
