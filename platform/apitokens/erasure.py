"""The API tokens' columns, declared to destruction: integrations, not a client's data."""

from __future__ import annotations

from okno.platform.erasure.registry import not_pd

not_pd(
    "api_token.name",
    "api_token.purpose_code",
    "api_token.token_hash",
    "api_token.prefix",
    "api_token.scopes",
    reason="an integration's name, purpose, scopes and keyed hash; never a subject's data",
)
