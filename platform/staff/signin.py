"""Signing in: the password check and the back-off after failed sign-ins.

Failures are counted per login (existing or not) and per address, each by a keyed hash, over
the last day; a browser that signed in to the account before (its ``okno_known`` cookie) is
not held back by strangers' failures with the login.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from piccolo.columns import Column
from piccolo.query.functions.aggregate import Count, Max

from okno.platform import database
from okno.platform.secret_key import secret_key
from okno.platform.settings import get_settings
from okno.platform.staff import passwords
from okno.platform.staff.errors import LoginFailedError, StaffError
from okno.platform.staff.schemas import USER_COLUMNS, StaffUser, staff_user
from okno.platform.staff.tables import StaffLoginFailure
from okno.platform.staff.tables import StaffUser as Accounts  # the table, not the Struct

# The sign-in back-off counts the failures of the last day; older ones are deleted.
BACKOFF_WINDOW = timedelta(days=1)


@functools.cache
def _key() -> bytes:
    return secret_key(get_settings()).encode()


def _keyed(kind: str, value: str) -> bytes:
    return hmac.new(_key(), f"{kind}|{value}".encode(), hashlib.sha256).digest()


def known_browser_token(user_id: int, password_hash: str) -> str:
    """The ``okno_known`` cookie a browser gets at sign-in: it may sign in to this account while
    strangers' failures hold the account back. A new password voids it."""
    nonce = secrets.token_urlsafe(12)
    return f"{user_id}.{nonce}.{_known_mac(user_id, nonce, password_hash)}"


def _known_mac(user_id: int, nonce: str, password_hash: str) -> str:
    return hmac.new(
        _key(), f"known|{user_id}|{nonce}|{password_hash}".encode(), hashlib.sha256
    ).hexdigest()


def _is_known(row: dict[str, Any] | None, token: str | None) -> bool:
    if row is None or not token or token.count(".") != 2 or len(token) > 200:
        return False
    user_id, nonce, mac = token.split(".")
    return user_id == str(row["id"]) and hmac.compare_digest(
        mac, _known_mac(row["id"], nonce, row["password_hash"])
    )


class Failures(msgspec.Struct, frozen=True):
    """The failed sign-ins of one login or one address within the back-off's window."""

    count: int
    last: datetime | None

    def held_until(self, threshold: int) -> datetime | None:
        """When the back-off ends: after ``threshold`` failures in a row a minute, doubling
        with each further failure, at most OKNO_LOGIN_LOCKOUT_MINUTES."""
        if self.count < threshold or self.last is None:
            return None
        cap = get_settings().login_lockout_minutes
        minutes = min(2 ** min(self.count - threshold, 20), cap)
        until = self.last + timedelta(minutes=minutes)
        return until if until > datetime.now(UTC) else None


async def _failures(column: Column, value: bytes) -> Failures:
    """The failures recorded with ``value`` in ``column`` (the login's or the IP's hash)."""
    window_start = database.now_plus(-BACKOFF_WINDOW)
    row = (
        await StaffLoginFailure.select(
            Count(alias="count"), Max(StaffLoginFailure.at, alias="last")
        )
        .where(column == value, StaffLoginFailure.at > window_start)
        .first()
        .run()
    )
    return Failures(row["count"], row["last"]) if row is not None else Failures(0, None)


async def login_failures(login: str) -> Failures:
    """The login's failures (per address back-off is not an account's: an admin does not lift
    it)."""
    return await _failures(StaffLoginFailure.login_hash, _keyed("login", login))


async def _held_until(column: Column, value: bytes | None, threshold: int) -> datetime | None:
    """When the back-off on ``column`` ends, if it holds now; no ``value``, no back-off."""
    if value is None:
        return None
    return (await _failures(column, value)).held_until(threshold)


async def forget_failures(login: str) -> int:
    """A new password, a success or an admin's unlock ends the login's run of failures;
    returns how many there were."""
    forgotten = (
        await StaffLoginFailure.delete()
        .where(StaffLoginFailure.login_hash == _keyed("login", login))
        .returning(StaffLoginFailure.id)
        .run()
    )
    return len(forgotten)


def _later(*moments: datetime | None) -> datetime | None:
    present = [moment for moment in moments if moment is not None]
    return max(present) if present else None


async def authenticate(
    login: str, password: str, *, ip: str | None = None, known: str | None = None
) -> StaffUser:
    """The account for these credentials, or ``LoginFailedError`` (never saying which was wrong).

    Unknown, disabled, held back and wrong all cost one argon2 verification and answer alike;
    the back-off counts per login (existing or not) and per IP address, and a browser that has
    signed in to the account before (``known``) is not held back by the login's count.
    """
    settings = get_settings()
    login = login.strip().lower()
    login_hash = _keyed("login", login)
    ip_hash = _keyed("ip", ip) if ip else None
    row = (
        await Accounts.select(*USER_COLUMNS, Accounts.password_hash)
        .where(Accounts.login == login)
        .first()
        .run()
    )
    if row is not None and row["disabled_at"] is not None:
        row = None
    login_until = await _held_until(
        StaffLoginFailure.login_hash, login_hash, settings.login_max_failures
    )
    ip_until = await _held_until(StaffLoginFailure.ip_hash, ip_hash, settings.login_ip_max_failures)
    known_here = _is_known(row, known)
    held_until = _later(ip_until, None if known_here else login_until)
    stored_hash = row["password_hash"] if row is not None else passwords.dummy_hash()
    matches = await passwords.verify_password(stored_hash, password)
    if held_until is not None:
        raise LoginFailedError(held_until)
    if row is None or not matches:
        async with database.transaction():
            window_start = database.now_plus(-BACKOFF_WINDOW)
            await StaffLoginFailure.delete().where(StaffLoginFailure.at < window_start).run()
            await StaffLoginFailure.insert(
                StaffLoginFailure(login_hash=login_hash, ip_hash=ip_hash)
            ).run()
            login_until = await _held_until(
                StaffLoginFailure.login_hash, login_hash, settings.login_max_failures
            )
            ip_until = await _held_until(
                StaffLoginFailure.ip_hash, ip_hash, settings.login_ip_max_failures
            )
        raise LoginFailedError(_later(ip_until, None if known_here else login_until))
    new_hash = (
        await passwords.rehash(password)
        if passwords.needs_rehash(row["password_hash"])
        else row["password_hash"]
    )
    async with database.transaction():
        if login_until is None:
            # A success ends the run of failures; one let through by ``known`` while the login
            # is held back leaves the strangers' count alone.
            await forget_failures(login)
        await (
            Accounts.update({Accounts.password_hash: new_hash})
            .where(Accounts.id == row["id"])
            .run()
        )
    return staff_user(row)


async def password_hash_of(user_id: int) -> str:
    """The account's password hash, which the ``okno_known`` cookie is bound to."""
    row = await Accounts.select(Accounts.password_hash).where(Accounts.id == user_id).first().run()
    if row is None:
        raise StaffError("нет такого пользователя")
    return row["password_hash"]
