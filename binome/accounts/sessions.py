"""The sessions in the database, read by a query compiled once per process.

Django's database sessions (``django.contrib.sessions.backends.db``), unchanged but for
the read of each request's session: ``Session.objects.get(…)`` built and compiled by the
ORM on every request cost three times its execution. The same row, the same conditions
(the key, not expired); a session missing or expired is an empty one, as before.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone

from binome.core.queries import PreparedQuery

_CURRENT = PreparedQuery(
    lambda p: Session.objects.filter(session_key=p.key, expire_date__gt=p.now).values(
        "session_data"
    ),
    key=str,
    now=datetime,
)


class SessionStore(db.SessionStore):
    def load(self) -> dict[str, Any]:
        rows = _CURRENT.run(key=self.session_key, now=timezone.now())
        if not rows:
            self._session_key = None  # as the database backend does: a new key if saved
            return {}
        return self.decode(rows[0]["session_data"])
