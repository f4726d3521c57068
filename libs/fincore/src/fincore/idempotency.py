"""Idempotency-Key support shared by the APIs: a request's fingerprint, so a retried request
with the same key is answered with the original result and a different request reusing the
key is refused (409)."""

from __future__ import annotations

import hashlib
import json


def request_hash(body: dict) -> str:
    """A stable fingerprint of a request body (keys sorted; Decimals and dates as strings)."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
