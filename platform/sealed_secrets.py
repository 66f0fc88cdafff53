"""Secrets okno must use again but never show (channel tokens, webhook signing secrets): kept
at rest with AES-GCM under a key derived from the server's secret key for each purpose, so a
copy of the database alone hands out nothing, and one purpose's ciphertext never opens as
another's."""

from __future__ import annotations

import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from okno.platform.secret_key import secret_key
from okno.platform.settings import get_settings

NONCE_BYTES = 12


def _cipher(purpose: bytes) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        secret_key(get_settings()).encode()
    )
    return AESGCM(key)


def seal(plain: bytes, purpose: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + _cipher(purpose).encrypt(nonce, plain, purpose)


def unseal(stored: bytes, purpose: bytes) -> bytes:
    nonce, sealed = stored[:NONCE_BYTES], stored[NONCE_BYTES:]
    return _cipher(purpose).decrypt(nonce, sealed, purpose)
