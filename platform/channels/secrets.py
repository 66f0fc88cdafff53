"""A channel's tokens and secrets at rest (platform/sealed_secrets.py), so a copy of the
database alone does not hand out the company's bots."""

from __future__ import annotations

import msgspec

from okno.platform import sealed_secrets

PURPOSE = b"okno channel secrets"


def seal(values: dict[str, str]) -> bytes:
    return sealed_secrets.seal(msgspec.json.encode(values), PURPOSE)


def unseal(blob: bytes) -> dict[str, str]:
    values: dict[str, str] = msgspec.json.decode(sealed_secrets.unseal(blob, PURPOSE))
    return values
