"""Endpoint secrets and signatures.

A secret is shown to the admin once and kept sealed (platform/sealed_secrets.py). Each
delivery is signed like Stripe's:
``Okno-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">``, so a receiver can
check both who sent it and that it is recent.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from okno.platform import sealed_secrets

PURPOSE = b"okno webhook endpoint secrets"


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def encrypt(secret: str) -> bytes:
    return sealed_secrets.seal(secret.encode(), PURPOSE)


def decrypt(stored: bytes) -> str:
    return sealed_secrets.unseal(stored, PURPOSE).decode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Okno-Signature`` header's value for ``body`` sent at ``timestamp``."""
    signed = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
