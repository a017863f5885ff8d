"""API token reads: the row a presented token names, and the tokens an operator lists.
Creating, renaming, revoking and touching a token are writes, in `incidents.services`."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from incidents.models import ApiToken


def api_token_by_prefix(prefix: str) -> ApiToken | None:
    """The token with this prefix (revoked or not), its user read in the same query."""
    return ApiToken.objects.select_related("user").filter(prefix=prefix).first()


def api_token_list(*, username: str | None = None, active_only: bool = True) -> QuerySet[ApiToken]:
    """Tokens by user name, then creation (one user's, unrevoked only unless asked)."""
    tokens = ApiToken.objects.select_related("user").order_by("user__username", "created_at")
    if username:
        tokens = tokens.filter(user__username=username)
    if active_only:
        tokens = tokens.filter(revoked_at__isnull=True)
    return tokens


def user_get(*, username: str) -> Any | None:
    return get_user_model().objects.filter(username=username).first()
