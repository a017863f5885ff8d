"""API throttling: per token when authenticated, per client address otherwise.

The counting (fixed windows in the shared cache, failing open when the cache is down) and the
client address rules live in `incidents.ratelimit`, shared with the web forms.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from incidents import ratelimit
from incidents.models import ApiToken


class KBThrottle(BaseThrottle):
    """One fixed-window counter per client: per token when authenticated, per address if not."""

    def _client(self, request) -> tuple[str, str]:
        auth = getattr(request, "auth", None)
        if isinstance(auth, ApiToken):
            return f"token:{auth.prefix}", settings.KB_API_THROTTLE_TOKEN
        return f"anon:{ratelimit.client_key(request)}", settings.KB_API_THROTTLE_ANON

    def allow_request(self, request, view) -> bool:
        client, rate = self._client(request)
        decision = ratelimit.consume("api", client, rate)
        self._wait = decision.retry_after
        return decision.allowed

    def wait(self) -> float | None:
        return getattr(self, "_wait", None)
