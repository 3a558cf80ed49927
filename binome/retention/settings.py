"""The durations of retention, read from the project's settings (environment variables) —
the privacy page shows these values, not a copy written by hand."""

from __future__ import annotations

from django.conf import settings


def retention_months() -> int:
    """A file is kept this many months after the last contact (CNIL: two years)."""
    return int(getattr(settings, "BINOME_RETENTION_MONTHS", 24))


def notice_days() -> int:
    """The team is told this many days before a file is anonymised."""
    return int(getattr(settings, "BINOME_RETENTION_NOTICE_DAYS", 30))


def audit_months() -> int:
    """The audit log is kept this many months (whole months: a month is one partition)."""
    return int(getattr(settings, "BINOME_AUDIT_RETENTION_MONTHS", 12))


def batch_size() -> int:
    return int(getattr(settings, "BINOME_RETENTION_BATCH", 500))
