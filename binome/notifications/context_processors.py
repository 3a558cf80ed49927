from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest

from binome.notifications.models import Notification


def notifications(request: HttpRequest) -> dict[str, Any]:
    """``unread_notifications``: the header's count, one query on the first use only
    (a page that does not show it, an htmx fragment, costs nothing)."""
    cache: list[int] = []

    def unread_notifications() -> int:
        if not cache:
            user = getattr(request, "user", None)
            authenticated = user is not None and user.is_authenticated
            cache.append(
                Notification.objects.for_user(user).unread().count() if authenticated else 0
            )
        return cache[0]

    counter: Callable[[], int] = unread_notifications
    return {"unread_notifications": counter}
