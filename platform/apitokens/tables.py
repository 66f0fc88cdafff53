"""API tokens, declared once for Piccolo (migrations/apitokens/ creates the table)."""

from __future__ import annotations

from piccolo.columns import Array, BigInt, BigSerial, Bytea, Integer, Text, Timestamptz
from piccolo.table import Table

from okno.platform.database import DatabaseNow


class ApiToken(Table, tablename="api_token"):
    id = BigSerial(primary_key=True)
    name = Text()
    purpose_code = Text()
    # The HMAC-SHA256 of the token under the server key: the token itself is never stored.
    token_hash = Bytea(unique=True)
    prefix = Text()  # the token's first characters, for telling tokens apart on the page
    scopes = Array(Text())
    created_by = BigInt()
    created_at = Timestamptz(default=DatabaseNow())
    expires_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
    revoked_by = BigInt(null=True, default=None)
    last_used_at = Timestamptz(null=True, default=None)
    window_started_at = Timestamptz(null=True, default=None)
    window_calls = Integer(default=0)
