"""Endpoint secrets and signatures.

A secret is shown to the admin once and kept encrypted (AES-GCM under a key derived from the
server's secret key, so a database dump alone does not give it away). Each delivery is signed
like Stripe's: ``Okno-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">``, so a
receiver can check both who sent it and that it is recent.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from okno.platform.secret_key import secret_key
from okno.platform.settings import get_settings

NONCE_BYTES = 12
PURPOSE = b"okno webhook endpoint secrets"


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def _cipher() -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=PURPOSE).derive(
        secret_key(get_settings()).encode()
    )
    return AESGCM(key)


def encrypt(secret: str) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + _cipher().encrypt(nonce, secret.encode(), PURPOSE)


def decrypt(stored: bytes) -> str:
    nonce, sealed = stored[:NONCE_BYTES], stored[NONCE_BYTES:]
    return _cipher().decrypt(nonce, sealed, PURPOSE).decode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Okno-Signature`` header's value for ``body`` sent at ``timestamp``."""
    signed = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
