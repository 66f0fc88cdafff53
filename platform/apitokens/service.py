"""API tokens: an admin creates them for an integration (a CRM, 1C), which then calls /api/v1.

A token is ``okno_`` and 43 random URL-safe characters (256 bits), shown once. Only its
HMAC-SHA256 under the server key is stored: a token is random and long, so a fast keyed hash
is as safe as a slow one (nobody can guess 2^256), and each API call costs a microsecond, not
argon2's tens of milliseconds. The key makes a copy of the table useless without the server.

Each token names a purpose the company declared (the ``purpose`` table): every call that
touches a client's data is logged as provision to the integration for that purpose, and only
what the purpose and the subject's consent cover is handed out (``okno.platform.apitokens.api``).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from enum import StrEnum

import msgspec

from okno.platform import database
from okno.platform.apitokens import queries
from okno.platform.apitokens.tables import ApiToken
from okno.platform.audit import service as audit
from okno.platform.consent.tables import Purpose
from okno.platform.errors import NotFound, Refused, TooMany
from okno.platform.secret_key import secret_key
from okno.platform.settings import get_settings

TOKEN_PREFIX = "okno_"  # noqa: S105 — the tokens' visible prefix, not a secret
SHOWN_PREFIX = 12  # characters of a token the page shows, to tell tokens apart
MAX_DAYS = 730


class Area(StrEnum):
    """What a token may reach; ``WRITABLE`` areas also have a write scope."""

    CONVERSATIONS = "conversations"
    MESSAGES = "messages"
    SUBJECTS = "subjects"
    CONSENT = "consent"
    RIGHTS = "rights"
    MAILINGS = "mailings"
    REPORTS = "reports"


AREA_LABELS = {
    Area.CONVERSATIONS: "Диалоги",
    Area.MESSAGES: "Сообщения",
    Area.SUBJECTS: "Клиенты (поля, разрешённые согласием)",
    Area.CONSENT: "Согласия и их доказательства",
    Area.RIGHTS: "Обращения субъектов",
    Area.MAILINGS: "Рассылки и их цифры",
    Area.REPORTS: "Отчёты (цифры по командам, направлениям и операторам)",
}
WRITABLE = frozenset({Area.CONVERSATIONS, Area.MESSAGES})
SCOPES = tuple(
    f"{area.value}:{access}"
    for area in Area
    for access in (("read", "write") if area in WRITABLE else ("read",))
)


class TokenRefused(Refused):
    """No live token in the call: missing, unknown, revoked or expired."""

    status_code = 401


class ApiClient(msgspec.Struct, frozen=True):
    """The integration behind a call, as the API's services need it."""

    token_id: int
    name: str
    purpose: str  # a purpose code
    legal_basis: str
    purpose_fields: frozenset[str]
    scopes: frozenset[str]


class TokenInfo(msgspec.Struct, frozen=True):
    """A token as the admin's page shows it (never the token itself)."""

    id: int
    name: str
    purpose: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    created_by: str
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
    live: bool


class CreatedToken(msgspec.Struct, frozen=True):
    id: int
    name: str
    secret: str  # shown once, on the page that created it


@functools.cache
def _key() -> bytes:
    return secret_key(get_settings()).encode()


def token_hash(secret: str) -> bytes:
    return hmac.new(_key(), f"api-token|{secret}".encode(), hashlib.sha256).digest()


async def purposes() -> list[tuple[str, str]]:
    """The declared purposes a token can name: (code, name)."""
    rows = await Purpose.select(Purpose.code, Purpose.name).order_by(Purpose.code).run()
    return [(row["code"], row["name"]) for row in rows]


async def create(
    actor: audit.Actor, name: str, purpose: str, scopes: list[str], days: int
) -> CreatedToken:
    """A new token; its secret is in the answer and nowhere else. Audited."""
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise Refused("название: от 1 до 100 символов")
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise Refused("выберите хотя бы одно право из списка")
    if not 1 <= days <= MAX_DAYS:
        raise Refused(f"срок действия: от 1 до {MAX_DAYS} дней")
    if purpose not in dict(await purposes()):
        raise Refused("выберите цель обработки из списка")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    chosen = sorted(set(scopes), key=SCOPES.index)
    async with database.transaction():
        row = (
            await ApiToken.insert(
                ApiToken(
                    name=name,
                    purpose_code=purpose,
                    token_hash=token_hash(secret),
                    prefix=secret[:SHOWN_PREFIX],
                    scopes=chosen,
                    created_by=actor.id,
                    expires_at=database.now_plus(timedelta(days=days)),
                )
            )
            .returning(ApiToken.id)
            .run()
        )[0]
        await audit.record(
            actor,
            audit.Entity.API_TOKEN,
            row["id"],
            "создан API-токен",
            None,
            {"name": name, "purpose": purpose, "scopes": chosen, "days": days},
        )
    return CreatedToken(row["id"], name, secret)


async def revoke(actor: audit.Actor, token_id: int) -> None:
    """End a token at once (its next call is refused). Audited; revoking twice changes nothing."""
    async with database.transaction():
        revoked = (
            await ApiToken.update(
                {ApiToken.revoked_at: database.NOW, ApiToken.revoked_by: actor.id}
            )
            .where((ApiToken.id == token_id) & ApiToken.revoked_at.is_null())
            .returning(ApiToken.name)
            .run()
        )
        if not revoked:
            if not await ApiToken.exists().where(ApiToken.id == token_id).run():
                raise NotFound("нет такого токена")
            return
        await audit.record(
            actor, audit.Entity.API_TOKEN, token_id, "отозван API-токен", None, revoked[0]
        )


async def tokens() -> list[TokenInfo]:
    """Every token, newest first, with its last use; the page shows which still work."""
    async with database.acquire() as conn:
        rows = await conn.fetch(queries.TOKENS)
    return [
        TokenInfo(
            id=row["id"],
            name=row["name"],
            purpose=row["purpose_code"],
            prefix=row["prefix"],
            scopes=row["scopes"],
            created_at=row["created_at"],
            created_by=row["created_by_login"],
            expires_at=row["expires_at"],
            revoked_at=row["revoked_at"],
            last_used_at=row["last_used_at"],
            live=row["live"],
        )
        for row in rows
    ]


async def authenticate(secret: str) -> ApiClient:
    """The live token ``secret`` is, its use stamped and counted; refused when it is none or
    has made more than ``OKNO_API_RATE_PER_MINUTE`` calls this minute."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        raise TokenRefused("нужен API-токен: заголовок Authorization: Bearer okno_…")
    async with database.acquire() as conn:
        row = await conn.fetchrow(queries.AUTHENTICATE, token_hash(secret))
    if row is None:
        raise TokenRefused("токен не действует: неизвестен, отозван или истёк")
    if row["window_calls"] > get_settings().api_rate_per_minute:
        raise TooMany("слишком много запросов с этим токеном: повторите через минуту")
    return ApiClient(
        token_id=row["id"],
        name=row["name"],
        purpose=row["purpose_code"],
        legal_basis=row["legal_basis"],
        purpose_fields=frozenset(row["fields"]),
        scopes=frozenset(row["scopes"]),
    )
