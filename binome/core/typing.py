"""Types shared by the views."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from binome.accounts.models import User
    from binome.organisations.models import Membership


class AuthenticatedRequest(HttpRequest):
    """The request of a view behind ``login_required``."""

    user: User
    current_membership: Membership | None
