"""Staff accounts: creation, passwords, lock-out after failed logins, and sessions."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta

import asyncpg
import msgspec

from okno.platform import database
from okno.platform.settings import get_settings
from okno.platform.staff import passwords
from okno.platform.staff.roles import Role

LOGIN_PATTERN = r"^[a-z0-9][a-z0-9._-]{1,39}$"
USER_COLUMNS = "id, login, display_name, pseudonym, role, must_change_password, disabled_at"


class StaffUser(msgspec.Struct, frozen=True):
    id: int
    login: str
    display_name: str
    pseudonym: str
    role: Role
    must_change_password: bool
    disabled_at: datetime | None = None


class StaffError(Exception):
    """A staff-account operation that cannot be done; the message says why (in Russian)."""


class LoginFailedError(StaffError):
    def __init__(self, locked_until: datetime | None = None) -> None:
        self.locked_until = locked_until
        super().__init__(
            "неверный логин или пароль" if locked_until is None else "вход заблокирован"
        )


def _user(row: asyncpg.Record) -> StaffUser:
    values = {name: row[name] for name in StaffUser.__struct_fields__}
    return StaffUser(**{**values, "role": Role(row["role"])})


def _token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def create_user(
    login: str,
    role: Role,
    password: str,
    display_name: str | None = None,
    *,
    must_change: bool = False,
) -> StaffUser:
    if not re.fullmatch(LOGIN_PATTERN, login):
        raise StaffError(
            "логин: латинские строчные буквы, цифры, точка, дефис; от 2 до 40 символов"
        )
    password_hash = await passwords.hash_password(password)
    async with database.transaction():
        try:
            row = await database.connection().fetchrow(
                f"INSERT INTO staff_user (login, display_name, pseudonym, role, password_hash,"
                f" must_change_password) VALUES ($1, $2, $3, $4, $5, $6) RETURNING {USER_COLUMNS}",
                login,
                display_name or login,
                f"S-{secrets.token_hex(3)}",
                role.value,
                password_hash,
                must_change,
            )
        except asyncpg.UniqueViolationError:
            raise StaffError(f"пользователь {login} уже существует") from None
    return _user(row)


async def list_users() -> list[StaffUser]:
    async with database.acquire() as conn:
        rows = await conn.fetch(f"SELECT {USER_COLUMNS} FROM staff_user ORDER BY login")
    return [_user(row) for row in rows]


async def get_user(login: str) -> StaffUser:
    async with database.acquire() as conn:
        row = await conn.fetchrow(f"SELECT {USER_COLUMNS} FROM staff_user WHERE login = $1", login)
    if row is None:
        raise StaffError(f"нет пользователя {login}")
    return _user(row)


async def disable_user(login: str) -> None:
    async with database.transaction():
        conn = database.connection()
        user_id = await conn.fetchval(
            "UPDATE staff_user SET disabled_at = coalesce(disabled_at, now()) WHERE login = $1"
            " RETURNING id",
            login,
        )
        if user_id is None:
            raise StaffError(f"нет пользователя {login}")
        await conn.execute("DELETE FROM staff_session WHERE user_id = $1", user_id)


async def set_password(login: str, password: str, *, must_change: bool = False) -> None:
    """Set a new password; ends every session of the account and lifts a lock-out."""
    password_hash = await passwords.hash_password(password)
    async with database.transaction():
        conn = database.connection()
        user_id = await conn.fetchval(
            "UPDATE staff_user SET password_hash = $2, must_change_password = $3,"
            " failed_logins = 0, locked_until = NULL WHERE login = $1 RETURNING id",
            login,
            password_hash,
            must_change,
        )
        if user_id is None:
            raise StaffError(f"нет пользователя {login}")
        await conn.execute("DELETE FROM staff_session WHERE user_id = $1", user_id)


async def authenticate(login: str, password: str) -> StaffUser:
    """The account for these credentials, or ``LoginFailedError`` (never saying which was wrong)."""
    settings = get_settings()
    async with database.acquire() as conn:
        row = await conn.fetchrow(
            f"SELECT {USER_COLUMNS}, password_hash, locked_until FROM staff_user WHERE login = $1",
            login.strip().lower(),
        )
    now = datetime.now(UTC)
    if row is None or row["disabled_at"] is not None:
        await passwords.verify_password(passwords.dummy_hash(), password)
        raise LoginFailedError()
    if row["locked_until"] is not None and row["locked_until"] > now:
        raise LoginFailedError(row["locked_until"])
    if not await passwords.verify_password(row["password_hash"], password):
        async with database.transaction():
            locked_until = await database.connection().fetchval(
                "UPDATE staff_user SET failed_logins = failed_logins + 1,"
                " locked_until = CASE WHEN failed_logins + 1 >= $2::int THEN $3::timestamptz END"
                " WHERE id = $1 RETURNING locked_until",
                row["id"],
                settings.login_max_failures,
                now + timedelta(minutes=settings.login_lockout_minutes),
            )
        raise LoginFailedError(locked_until)
    new_hash = (
        await passwords.hash_password(password)
        if passwords.needs_rehash(row["password_hash"])
        else row["password_hash"]
    )
    async with database.transaction():
        await database.connection().execute(
            "UPDATE staff_user SET failed_logins = 0, locked_until = NULL, password_hash = $2"
            " WHERE id = $1",
            row["id"],
            new_hash,
        )
    return _user(row)


async def ensure_admin(login: str, password: str | None) -> str | None:
    """Create the first admin if there is none; returns the one-time password it generated."""
    async with database.acquire() as conn:
        if await conn.fetchval("SELECT 1 FROM staff_user WHERE role = 'admin' LIMIT 1"):
            return None
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    await create_user(login, Role.ADMIN, password, "Администратор", must_change=generated)
    return password if generated else None


async def start_session(user_id: int) -> str:
    token = secrets.token_urlsafe(32)
    ttl = timedelta(minutes=get_settings().session_ttl_minutes)
    async with database.transaction():
        conn = database.connection()
        await conn.execute("DELETE FROM staff_session WHERE expires_at < now()")
        await conn.execute(
            "INSERT INTO staff_session (token_hash, user_id, expires_at) VALUES ($1, $2, $3)",
            _token_hash(token),
            user_id,
            datetime.now(UTC) + ttl,
        )
    return token


async def session_user(token: str) -> StaffUser | None:
    async with database.acquire() as conn:
        row = await conn.fetchrow(
            f"SELECT {', '.join('u.' + c.strip() for c in USER_COLUMNS.split(','))}"
            " FROM staff_session s JOIN staff_user u ON u.id = s.user_id"
            " WHERE s.token_hash = $1 AND s.expires_at > now() AND u.disabled_at IS NULL",
            _token_hash(token),
        )
    return _user(row) if row else None


async def end_session(token: str) -> None:
    async with database.acquire() as conn:
        await conn.execute("DELETE FROM staff_session WHERE token_hash = $1", _token_hash(token))
