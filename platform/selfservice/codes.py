"""Signing in from another device: a one-time code sent to an e-mail address on file.

- The answer never says whether the address is known: a row is written and the same page
  shown either way, and the letter is sent in the background after the answer.
- Codes are 6 digits, kept only as a keyed hash (HMAC-SHA-256 with the server's secret key),
  valid for ``OKNO_PORTAL_CODE_MINUTES``, used once, void after ``OKNO_PORTAL_CODE_ATTEMPTS``
  wrong entries.
- Per address and per client IP only so many codes an hour; both are kept as keyed hashes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email
from piccolo.columns import Column

from okno.platform import database, mail
from okno.platform.errors import Refused, TooMany
from okno.platform.processing_log import service as processing_log
from okno.platform.processing_log.actions import Action, ActorKind
from okno.platform.secret_key import secret_key
from okno.platform.selfservice import queries, sessions
from okno.platform.selfservice.compliance import entry
from okno.platform.selfservice.tables import PortalCode
from okno.platform.settings import get_settings

LOGIN_COOKIE = "okno_portal_login"  # which code the second step checks (not the address)


class CodeError(Refused):
    """The code or address was refused; the message (Russian) is safe to show."""


class RateLimitedError(CodeError, TooMany):
    """Too many codes asked for: the address or the network must wait."""


def _keyed(*parts: str) -> bytes:
    key = secret_key(get_settings()).encode()
    return hmac.new(key, "\x00".join(parts).encode(), hashlib.sha256).digest()


def normalize_address(address: str) -> str:
    try:
        return validate_email(address.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise CodeError("это не похоже на адрес электронной почты") from None


def letter_text(code: str, minutes: int) -> str:
    return (
        f"Ваш код для входа в раздел «Мои данные»: {code}\n\n"
        f"Код действует {minutes} минут и подходит один раз.\n"
        "Если вы не запрашивали код, просто удалите это письмо: без кода никто не войдёт.\n"
    )


async def request_code(address: str, ip: str | None) -> str:
    """Register a code for ``address``; returns the login token for the second step.

    Known or unknown, the address gets the same treatment up to the letter, which only a known
    address is sent (after this returns).
    """
    settings = get_settings()
    address = normalize_address(address)
    address_hash = _keyed("address", address.lower())
    ip_hash = _keyed("ip", ip) if ip else None
    login_token = secrets.token_urlsafe(24)
    login_hash = hashlib.sha256(login_token.encode()).digest()
    code = f"{secrets.randbelow(10**6):06d}"
    async with database.transaction():
        conn = database.connection()
        day_ago = database.now_plus(-timedelta(days=1))
        await PortalCode.delete().where(PortalCode.created_at < day_ago).run()
        recent = await database.fetch_one(conn, queries.RECENT_CODES, address_hash, ip_hash)
        if (
            recent["address"] >= settings.portal_codes_per_address_hour
            or recent["ip"] >= settings.portal_codes_per_ip_hour
        ):
            raise RateLimitedError("слишком много запросов кода; попробуйте через час")
        subject_id: uuid.UUID | None = await conn.fetchval(queries.SUBJECT_BY_EMAIL, address)
        await PortalCode.insert(
            PortalCode(
                login_hash=login_hash,
                subject_id=subject_id,
                address_hash=address_hash,
                ip_hash=ip_hash,
                code_hash=_keyed("code", login_hash.hex(), code),
                expires_at=database.now_plus(timedelta(minutes=settings.portal_code_minutes)),
            )
        ).run()
        if subject_id is not None:
            actions = [Action.USE]
            if not settings.smtp_host:
                actions += [Action.RECORDING, Action.STORAGE]  # the letter in the outbox folder
            await processing_log.record(
                *[
                    entry(
                        action,
                        ActorKind.SYSTEM,
                        subject_id,
                        ("email",),
                        reason="код входа в «Мои данные» отправлен на почту",
                    )
                    for action in actions
                ]
            )
    if subject_id is not None:
        message = mail.compose(
            address, "Код входа в «Мои данные»", letter_text(code, settings.portal_code_minutes)
        )
        mail.send_later(message, subject_id)
    return login_token


async def verify(login_token: str | None, code: str) -> str:
    """A portal session's token for a right code; ``CodeError`` otherwise."""
    settings = get_settings()
    if not login_token or len(login_token) > 100:
        raise CodeError("запросите код заново")
    code = "".join(code.split())
    login_hash = hashlib.sha256(login_token.encode()).digest()
    now = datetime.now(UTC)
    refusal: str | None = None
    token: str | None = None
    async with database.transaction():
        row = (
            await PortalCode.select(
                PortalCode.id,
                PortalCode.subject_id,
                PortalCode.code_hash,
                PortalCode.attempts,
                PortalCode.expires_at,
                PortalCode.used_at,
            )
            .where(PortalCode.login_hash == login_hash)
            .lock_rows()
            .first()
            .run()
        )
        if row is None or row["used_at"] is not None:
            refusal = "этот код уже не действует; запросите новый"
        elif row["expires_at"] <= now:
            refusal = "срок действия кода истёк; запросите новый"
        elif row["attempts"] >= settings.portal_code_attempts:
            refusal = "слишком много неверных попыток; запросите новый код"
        else:
            attempts = row["attempts"] + 1
            right = hmac.compare_digest(
                bytes(row["code_hash"]), _keyed("code", login_hash.hex(), code)
            )
            if right and row["subject_id"] is not None:
                await _record_attempt(
                    row["id"], {PortalCode.attempts: attempts, PortalCode.used_at: now}
                )
                token = await sessions.start(row["subject_id"], "code")
            else:
                await _record_attempt(row["id"], {PortalCode.attempts: attempts})
                left = settings.portal_code_attempts - attempts
                refusal = (
                    f"неверный код; осталось попыток: {left}"
                    if left > 0
                    else "неверный код; попытки исчерпаны, запросите новый код"
                )
    if token is None:
        raise CodeError(refusal or "неверный код")
    return token


async def _record_attempt(code_id: int, values: dict[Column | str, Any]) -> None:
    """Count an attempt at the code (and, when it was right, mark the code used)."""
    await PortalCode.update(values).where(PortalCode.id == code_id).run()
