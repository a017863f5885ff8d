"""Request verification shared by the platforms: constant-time comparisons only."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable


def hmac_sha256_hex(secret: str | bytes, message: bytes) -> str:
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def hmac_sha256_b64(key: bytes, message: bytes) -> str:
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode("ascii")


def matches_any(given: str, expected: Iterable[str]) -> bool:
    """True when `given` equals one of `expected`; every candidate is compared (no early exit)."""
    given_b = given.encode("utf-8", "replace")
    found = False
    for candidate in expected:
        if candidate and hmac.compare_digest(given_b, candidate.encode("utf-8", "replace")):
            found = True
    return found


def b64_key(secret: str) -> bytes | None:
    """The HMAC key from a base64 secret (as Teams shows it), or None when it is not base64."""
    try:
        return base64.b64decode(secret.strip(), validate=True) if secret.strip() else None
    except (binascii.Error, ValueError):
        return None
