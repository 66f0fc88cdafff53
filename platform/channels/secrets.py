"""A channel's tokens and secrets at rest: AES-GCM under a key derived from the server's secret
key, so a copy of the database alone does not hand out the company's bots."""

from __future__ import annotations

import hashlib
import os

import msgspec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from okno.platform.secret_key import secret_key
from okno.platform.settings import get_settings

NONCE_BYTES = 12


def _key() -> bytes:
    # A key of its own for this use, so it is never the same bytes as the CSRF or code keys.
    return hashlib.sha256(b"okno-channel-secrets|" + secret_key(get_settings()).encode()).digest()


def seal(values: dict[str, str]) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(_key()).encrypt(nonce, msgspec.json.encode(values), b"channel")


def unseal(blob: bytes) -> dict[str, str]:
    nonce, sealed = blob[:NONCE_BYTES], blob[NONCE_BYTES:]
    values: dict[str, str] = msgspec.json.decode(AESGCM(_key()).decrypt(nonce, sealed, b"channel"))
    return values
