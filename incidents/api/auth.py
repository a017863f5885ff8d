"""API tokens: their format and authentication. Only a SHA-256 of each token is ever stored;
creating, renaming and revoking one are writes, in `incidents.services`.

A token is `kb_<prefix>_<secret>`: 8 random characters of prefix (stored in clear, to find the
row with one indexed lookup) and 43 of secret (256 bits from `secrets`). With that much entropy a
plain SHA-256 is enough: there is nothing to brute-force, so a slow password hash would only
cost every request a few milliseconds. The hashes are compared in constant time anyway.

Clients send `Authorization: Bearer kb_...` (or `Token kb_...`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from incidents import ratelimit
from incidents.models import ApiToken

TOKEN_PREFIX = "kb_"
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
PREFIX_LENGTH = 8
# last_used_at is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
AUTH_FAILURES = "api-auth-failures"  # rate-limit scope


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _split(token: str) -> tuple[str, str] | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    prefix, sep, secret = token[len(TOKEN_PREFIX) :].partition("_")
    if not sep or len(prefix) != PREFIX_LENGTH or not secret:
        return None
    return prefix, secret


def new_token() -> tuple[str, str]:
    """A fresh (prefix, plaintext) pair; `incidents.services.api_token_create` stores its hash."""
    prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))
    return prefix, f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"


def api_token_authenticate(plaintext: str) -> ApiToken | None:
    """The active token with this plaintext, or None. Touches last_used_at (coarsely)."""
    parts = _split(plaintext)
    if parts is None:
        return None
    from incidents import selectors, services

    token = selectors.api_token_by_prefix(parts[0])
    if token is None or not hmac.compare_digest(token.token_hash, hash_token(plaintext)):
        return None
    if token.revoked_at is not None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        services.api_token_touch(token=token, at=now)
    return token


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <token>`; a missing header is anonymous, a bad token is 401."""

    keywords = ("bearer", "token")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode("latin-1").lower() not in self.keywords:
            return None
        # Failed attempts are limited per client address (KB_AUTH_FAILURE_THROTTLE): guessing
        # tokens costs a 429 once the window's failures are spent, even with a valid token.
        client = ratelimit.client_key(request)
        decision = ratelimit.exhausted(AUTH_FAILURES, client, settings.KB_AUTH_FAILURE_THROTTLE)
        if not decision.allowed:
            raise exceptions.Throttled(wait=decision.retry_after)
        if len(header) != 2:
            self._failed(client)
            raise exceptions.AuthenticationFailed("Malformed Authorization header.")
        try:
            plaintext = header[1].decode("ascii")
        except UnicodeDecodeError:
            self._failed(client)
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        token = api_token_authenticate(plaintext)
        if token is None:
            self._failed(client)
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        return token.user, token

    @staticmethod
    def _failed(client: str) -> None:
        ratelimit.consume(AUTH_FAILURES, client, settings.KB_AUTH_FAILURE_THROTTLE)

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Documents the bearer token in the OpenAPI schema."""

    target_class = ApiTokenAuthentication
    name = "ApiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token (kb_...) from `manage.py manage_api_tokens create`.",
        }
