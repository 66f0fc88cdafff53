"""Staff accounts: creation, passwords, lock-out after failed logins, and sessions."""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime, timedelta

import asyncpg
import msgspec

from okno.platform import database
from okno.platform.audit import service as audit
from okno.platform.audit.service import COMMAND_LINE, Actor, Entity
from okno.platform.chat import notify
from okno.platform.secret_key import secret_key
from okno.platform.settings import get_settings
from okno.platform.staff import passwords
from okno.platform.staff.roles import Role

LOGIN_PATTERN = r"^[a-z0-9][a-z0-9._-]{1,39}$"
DEFAULT_MAX_CHATS = 5  # the column's default (chat_0001)
MAX_CHATS_LIMIT = 100  # the column's CHECK
USER_COLUMNS = "id, login, display_name, pseudonym, role, must_change_password, disabled_at"


def session_valid() -> str:
    """When a session still counts, over ``staff_session s JOIN staff_user u``: not expired, not
    idle longer than OKNO_SESSION_IDLE_MINUTES, the account enabled. The one rule for requests
    (``session_user``) and for open sockets, which re-check it (okno.platform.chat.service)."""
    idle = int(get_settings().session_idle_minutes)
    return (
        f"s.expires_at > now() AND s.last_seen_at > now() - make_interval(mins => {idle})"
        " AND u.disabled_at IS NULL"
    )


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


def session_key(token: str) -> bytes:
    """What a session is stored and announced by: the SHA-256 of its cookie's token."""
    return _token_hash(token)


async def announce_sessions_ended(user_id: int, conn: asyncpg.Connection | None = None) -> None:
    """Tell every worker that this account's sessions or rights changed: call it after the
    commit of anything that ends a session (sign-out, disable, a password set or reset) or
    changes what the account may do (its role, its teams). Each open staff socket of the
    account then re-checks its session at once: one that ended is closed (4401), a role
    without chat is closed (4403), and conversations it may no longer see stop delivering
    (``access_ended``); see docs/protocol.md.

    With ``conn`` (inside the transaction that made the change) the announcement goes out
    exactly at its commit; without, call it after the commit. Either way each worker also
    re-checks its sockets every few seconds, should an announcement be lost."""
    if conn is not None:
        await notify.staff_changed_in(conn, user_id)
    else:
        await notify.staff_changed(user_id)


async def create_user(
    login: str,
    role: Role,
    password: str,
    display_name: str | None = None,
    *,
    must_change: bool = False,
    team: int | str | None = None,
    max_chats: int | None = None,
    actor: Actor = COMMAND_LINE,
) -> StaffUser:
    """Create an account; an operator joins ``team`` (by default the default team)."""
    from okno.platform.teams import service as teams

    if not re.fullmatch(LOGIN_PATTERN, login):
        raise StaffError(
            "логин: латинские строчные буквы, цифры, точка, дефис; от 2 до 40 символов"
        )
    if max_chats is not None and not 0 <= max_chats <= MAX_CHATS_LIMIT:
        raise StaffError(f"одновременных диалогов: от 0 до {MAX_CHATS_LIMIT}")
    password_hash = await passwords.hash_password(password, login)
    async with database.transaction():
        conn = database.connection()
        try:
            row = await database.fetch_one(
                conn,
                f"INSERT INTO staff_user (login, display_name, pseudonym, role, password_hash,"
                f" must_change_password, max_chats) VALUES ($1, $2, $3, $4, $5, $6,"
                f" coalesce($7, {DEFAULT_MAX_CHATS})) RETURNING {USER_COLUMNS}",
                login,
                display_name or login,
                f"S-{secrets.token_hex(3)}",
                role.value,
                password_hash,
                must_change,
                max_chats,
            )
        except asyncpg.UniqueViolationError:
            raise StaffError(f"пользователь {login} уже существует") from None
        user = _user(row)
        team_name = None
        # Operators join the default team unless told otherwise; a supervisor sees every
        # conversation anyway and joins a team only when one is named.
        if role == Role.OPERATOR or (role in teams.MEMBER_ROLES and team is not None):
            try:
                team_id = await teams.team_id_for(conn, team)
                if team_id is not None:
                    await teams.join_in_transaction(conn, team_id, user.id)
                    team_name = await conn.fetchval("SELECT name FROM team WHERE id = $1", team_id)
            except teams.TeamsError as problem:
                raise StaffError(str(problem)) from None
        elif team is not None:
            raise StaffError("в команды входят только операторы и старшие операторы")
        await audit.record(
            actor,
            Entity.ACCOUNT,
            login,
            "создан",
            None,
            {**_audited(user), "max_chats": max_chats or DEFAULT_MAX_CHATS, "team": team_name},
        )
    return user


def _audited(user: StaffUser) -> dict[str, object]:
    return {"role": user.role.value, "display_name": user.display_name, "pseudonym": user.pseudonym}


async def list_users() -> list[StaffUser]:
    async with database.acquire() as conn:
        rows = await conn.fetch(f"SELECT {USER_COLUMNS} FROM staff_user ORDER BY login")
    return [_user(row) for row in rows]


async def team_names_of(user_id: int) -> list[str]:
    async with database.acquire() as conn:
        rows = await conn.fetch(
            "SELECT t.name FROM team_member m JOIN team t ON t.id = m.team_id"
            " WHERE m.staff_id = $1 ORDER BY t.name",
            user_id,
        )
    return [row["name"] for row in rows]


async def get_user(login: str) -> StaffUser:
    async with database.acquire() as conn:
        row = await conn.fetchrow(f"SELECT {USER_COLUMNS} FROM staff_user WHERE login = $1", login)
    if row is None:
        raise StaffError(f"нет пользователя {login}")
    return _user(row)


async def disable_user(login: str, actor: Actor = COMMAND_LINE) -> None:
    async with database.transaction():
        conn = database.connection()
        before = await _locked_account(conn, login)
        if before["disabled_at"] is not None:
            return
        await conn.execute("UPDATE staff_user SET disabled_at = now() WHERE id = $1", before["id"])
        await _end_sessions(conn, before["id"])
        await audit.record(
            actor, Entity.ACCOUNT, login, "отключён", {"disabled": False}, {"disabled": True}
        )


async def set_password(login: str, password: str, *, must_change: bool = False) -> None:
    """Set a new password; ends every session of the account and lifts a lock-out."""
    password_hash = await passwords.hash_password(password, login)
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
        await conn.execute(
            "DELETE FROM staff_login_failure WHERE login_hash = $1", _keyed("login", login)
        )
        await _end_sessions(conn, user_id)


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


def _is_known(row: asyncpg.Record | None, token: str | None) -> bool:
    if row is None or not token or token.count(".") != 2 or len(token) > 200:
        return False
    user_id, nonce, mac = token.split(".")
    return user_id == str(row["id"]) and hmac.compare_digest(
        mac, _known_mac(row["id"], nonce, row["password_hash"])
    )


async def _held_until(
    conn: asyncpg.Connection, column: str, value: bytes, threshold: int
) -> datetime | None:
    """When the back-off on ``column`` (login or IP) ends: after ``threshold`` failures in a row
    a minute, doubling with each further failure, at most OKNO_LOGIN_LOCKOUT_MINUTES."""
    failures, last = await conn.fetchrow(
        f"SELECT count(*), max(at) FROM staff_login_failure"
        f" WHERE {column} = $1 AND at > now() - interval '1 day'",
        value,
    ) or (0, None)
    if failures < threshold or last is None:
        return None
    cap = get_settings().login_lockout_minutes
    minutes = min(2 ** min(failures - threshold, 20), cap)
    until = last + timedelta(minutes=minutes)
    return until if until > datetime.now(UTC) else None


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
    async with database.acquire() as conn:
        row = await conn.fetchrow(
            f"SELECT {USER_COLUMNS}, password_hash FROM staff_user WHERE login = $1", login
        )
        if row is not None and row["disabled_at"] is not None:
            row = None
        login_until = await _held_until(conn, "login_hash", login_hash, settings.login_max_failures)
        ip_until = (
            await _held_until(conn, "ip_hash", ip_hash, settings.login_ip_max_failures)
            if ip_hash
            else None
        )
    known_here = _is_known(row, known)
    held_until = _later(ip_until, None if known_here else login_until)
    stored_hash = row["password_hash"] if row is not None else passwords.dummy_hash()
    matches = await passwords.verify_password(stored_hash, password)
    if held_until is not None:
        raise LoginFailedError(held_until)
    if row is None or not matches:
        async with database.transaction():
            conn = database.connection()
            await conn.execute(
                "DELETE FROM staff_login_failure WHERE at < now() - interval '1 day'"
            )
            await conn.execute(
                "INSERT INTO staff_login_failure (login_hash, ip_hash) VALUES ($1, $2)",
                login_hash,
                ip_hash,
            )
            login_until = await _held_until(
                conn, "login_hash", login_hash, settings.login_max_failures
            )
            ip_until = (
                await _held_until(conn, "ip_hash", ip_hash, settings.login_ip_max_failures)
                if ip_hash
                else None
            )
        raise LoginFailedError(_later(ip_until, None if known_here else login_until))
    new_hash = (
        await passwords.rehash(password)
        if passwords.needs_rehash(row["password_hash"])
        else row["password_hash"]
    )
    async with database.transaction():
        conn = database.connection()
        if login_until is None:
            # A success ends the run of failures; one let through by ``known`` while the login
            # is held back leaves the strangers' count alone.
            await conn.execute("DELETE FROM staff_login_failure WHERE login_hash = $1", login_hash)
        await conn.execute(
            "UPDATE staff_user SET password_hash = $2 WHERE id = $1", row["id"], new_hash
        )
    return _user(row)


async def password_hash_of(user_id: int) -> str:
    async with database.acquire() as conn:
        return await conn.fetchval("SELECT password_hash FROM staff_user WHERE id = $1", user_id)


async def ensure_admin(login: str, password: str | None) -> str | None:
    """Create the first admin if there is none; returns the one-time password it generated."""
    async with database.acquire() as conn:
        if await conn.fetchval("SELECT 1 FROM staff_user WHERE role = 'admin' LIMIT 1"):
            return None
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    await create_user(login, Role.ADMIN, password, "Администратор", must_change=generated)
    return password if generated else None


async def start_session(user_id: int, *, replacing: str | None = None) -> str:
    """A new session; the one the browser presented (``replacing``), if any, ends with it."""
    token = secrets.token_urlsafe(32)
    ttl = timedelta(minutes=get_settings().session_ttl_minutes)
    async with database.transaction():
        conn = database.connection()
        await conn.execute("DELETE FROM staff_session WHERE expires_at < now()")
        if replacing:
            replaced = await conn.fetchval(
                "DELETE FROM staff_session WHERE token_hash = $1 RETURNING user_id",
                _token_hash(replacing),
            )
            if replaced is not None:
                await announce_sessions_ended(replaced, conn)
        await conn.execute(
            "INSERT INTO staff_session (token_hash, user_id, expires_at) VALUES ($1, $2, $3)",
            _token_hash(token),
            user_id,
            datetime.now(UTC) + ttl,
        )
    return token


async def session_user(token: str, *, allow_must_change: bool = False) -> StaffUser | None:
    """The account of a live session: not expired, not idle longer than OKNO_SESSION_IDLE_MINUTES,
    account enabled. An account that must change its password gets nothing but the password
    page (``allow_must_change``): the guard of every other page, the API and the staff socket
    all see no user. Each use keeps the session from going idle."""
    if not token or len(token) > 100:
        return None
    async with database.acquire() as conn:
        row = await conn.fetchrow(
            f"SELECT {', '.join('u.' + c.strip() for c in USER_COLUMNS.split(','))},"
            " s.last_seen_at < now() - interval '1 minute' AS stale"
            " FROM staff_session s JOIN staff_user u ON u.id = s.user_id"
            f" WHERE s.token_hash = $1 AND {session_valid()}",
            _token_hash(token),
        )
        if row is not None and row["stale"]:
            # Touched at most once a minute: a busy console does not write on every request.
            await conn.execute(
                "UPDATE staff_session SET last_seen_at = now() WHERE token_hash = $1",
                _token_hash(token),
            )
    if row is None or (row["must_change_password"] and not allow_must_change):
        return None
    return _user(row)


class SessionInfo(msgspec.Struct, frozen=True):
    created_at: datetime
    last_seen_at: datetime
    current: bool


async def sessions_of(user_id: int, current_token: str) -> list[SessionInfo]:
    """The account's live sessions, newest first; ``current``: the one asking."""
    async with database.acquire() as conn:
        rows = await conn.fetch(
            "SELECT created_at, last_seen_at, token_hash = $2 AS current FROM staff_session"
            " WHERE user_id = $1 AND expires_at > now() ORDER BY created_at DESC",
            user_id,
            _token_hash(current_token),
        )
    return [SessionInfo(r["created_at"], r["last_seen_at"], r["current"]) for r in rows]


async def end_other_sessions(user_id: int, current_token: str) -> int:
    """Ends every session of the account but the one asking; returns how many ended."""
    async with database.transaction():
        conn = database.connection()
        ended = await conn.fetch(
            "DELETE FROM staff_session WHERE user_id = $1 AND token_hash <> $2 RETURNING 1",
            user_id,
            _token_hash(current_token),
        )
        if ended:
            await announce_sessions_ended(user_id, conn)
    return len(ended)


async def touch_session(token: str | None) -> None:
    """A sign of life from the session's console socket (its heartbeat): the session is used,
    so it does not go idle. At most one write a minute."""
    if not token:
        return
    idle = timedelta(minutes=get_settings().session_idle_minutes)
    async with database.acquire() as conn:
        await conn.execute(
            "UPDATE staff_session SET last_seen_at = now() WHERE token_hash = $1"
            " AND last_seen_at < now() - interval '1 minute'"
            " AND last_seen_at > now() - $2::interval",  # an idle session stays ended
            _token_hash(token),
            idle,
        )


async def end_session(token: str) -> None:
    async with database.acquire() as conn:
        user_id = await conn.fetchval(
            "DELETE FROM staff_session WHERE token_hash = $1 RETURNING user_id", _token_hash(token)
        )
    if user_id is not None:
        await announce_sessions_ended(user_id)


# Account management in the console (admin). Every change is kept in the staff audit log;
# those that change rights or credentials end the account's sessions.


class Account(msgspec.Struct, frozen=True):
    """An account as the admin's page shows it."""

    id: int
    login: str
    display_name: str
    pseudonym: str
    role: Role
    max_chats: int
    must_change_password: bool
    disabled_at: datetime | None
    failed_logins: int  # failed sign-ins with this login in the back-off's window (a day)
    locked_until: datetime | None  # while the login is held back

    @property
    def locked(self) -> bool:
        return self.locked_until is not None


ACCOUNT_COLUMNS = (
    "id, login, display_name, pseudonym, role, max_chats, must_change_password, disabled_at"
)


async def list_accounts() -> list[Account]:
    async with database.acquire() as conn:
        rows = await conn.fetch(f"SELECT {ACCOUNT_COLUMNS} FROM staff_user ORDER BY login")
        return [await _account_with_backoff(conn, row) for row in rows]


async def get_account(login: str) -> Account:
    async with database.acquire() as conn:
        row = await conn.fetchrow(
            f"SELECT {ACCOUNT_COLUMNS} FROM staff_user WHERE login = $1", login
        )
        if row is None:
            raise StaffError(f"нет пользователя {login}")
        return await _account_with_backoff(conn, row)


async def _account_with_backoff(conn: asyncpg.Connection, row: asyncpg.Record) -> Account:
    """The account with its login's sign-in back-off (per address back-off is not the
    account's: an admin does not lift it)."""
    login_hash = _keyed("login", row["login"])
    failures = await conn.fetchval(
        "SELECT count(*) FROM staff_login_failure"
        " WHERE login_hash = $1 AND at > now() - interval '1 day'",
        login_hash,
    )
    held = await _held_until(conn, "login_hash", login_hash, get_settings().login_max_failures)
    return Account(
        **{**dict(row), "role": Role(row["role"])}, failed_logins=failures, locked_until=held
    )


async def _locked_account(conn: asyncpg.Connection, login: str) -> asyncpg.Record:
    row = await conn.fetchrow(
        f"SELECT {ACCOUNT_COLUMNS} FROM staff_user WHERE login = $1 FOR UPDATE", login
    )
    if row is None:
        raise StaffError(f"нет пользователя {login}")
    return row


async def _end_sessions(conn: asyncpg.Connection, user_id: int) -> None:
    """End every session of an account in the caller's transaction; its open sockets on
    every worker close at commit."""
    await conn.execute("DELETE FROM staff_session WHERE user_id = $1", user_id)
    await announce_sessions_ended(user_id, conn)


class Profile(msgspec.Struct, frozen=True):
    display_name: str
    pseudonym: str
    max_chats: int


async def update_profile(actor: Actor, login: str, profile: Profile) -> None:
    """Display name, pseudonym (what clients see) and capacity (max concurrent chats)."""
    display_name = " ".join(profile.display_name.split())
    pseudonym = " ".join(profile.pseudonym.split())
    if not 1 <= len(display_name) <= 100:
        raise StaffError("имя: от 1 до 100 символов")
    if not 1 <= len(pseudonym) <= 40:
        raise StaffError("псевдоним: от 1 до 40 символов")
    if not 0 <= profile.max_chats <= MAX_CHATS_LIMIT:
        raise StaffError(f"одновременных диалогов: от 0 до {MAX_CHATS_LIMIT}")
    after = {"display_name": display_name, "pseudonym": pseudonym, "max_chats": profile.max_chats}
    async with database.transaction():
        conn = database.connection()
        row = await _locked_account(conn, login)
        before = {name: row[name] for name in after}
        if before == after:
            return
        try:
            await conn.execute(
                "UPDATE staff_user SET display_name = $2, pseudonym = $3, max_chats = $4"
                " WHERE id = $1",
                row["id"],
                display_name,
                pseudonym,
                profile.max_chats,
            )
        except asyncpg.UniqueViolationError:
            raise StaffError(f"псевдоним «{pseudonym}» уже занят") from None
        await audit.record(actor, Entity.ACCOUNT, login, "изменён", before, after)
    if after["max_chats"] > before["max_chats"]:
        from okno.platform.chat import routing

        await routing.assign_waiting()


async def set_role(actor: Actor, login: str, role: Role) -> None:
    """Change an account's role; its sessions end (their rights were the old role's)."""
    async with database.transaction():
        conn = database.connection()
        row = await _locked_account(conn, login)
        if row["role"] == role.value:
            return
        if row["id"] == actor.id:
            raise StaffError("нельзя изменить роль собственной учётной записи")
        if row["role"] == Role.ADMIN and not await _other_admin(conn, row["id"]):
            raise StaffError("это последний администратор")
        await conn.execute("UPDATE staff_user SET role = $2 WHERE id = $1", row["id"], role.value)
        if role not in (Role.OPERATOR, Role.SUPERVISOR):
            # Teams are for those who take chats; a DPO or admin in a team would be a
            # candidate for nothing and clutter the lists.
            await conn.execute("DELETE FROM team_member WHERE staff_id = $1", row["id"])
        await _end_sessions(conn, row["id"])
        await audit.record(
            actor, Entity.ACCOUNT, login, "роль", {"role": row["role"]}, {"role": role.value}
        )


async def _other_admin(conn: asyncpg.Connection, user_id: int) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT 1 FROM staff_user WHERE role = 'admin' AND disabled_at IS NULL AND id <> $1",
            user_id,
        )
    )


async def reset_password(actor: Actor, login: str) -> str:
    """A one-time password (returned once, stored only as a hash) that must be changed."""
    password = secrets.token_urlsafe(12)
    password_hash = await passwords.hash_password(password, login)
    async with database.transaction():
        conn = database.connection()
        row = await _locked_account(conn, login)
        if row["disabled_at"] is not None:
            raise StaffError("учётная запись отключена: сначала включите её")
        await conn.execute(
            "UPDATE staff_user SET password_hash = $2, must_change_password = true WHERE id = $1",
            row["id"],
            password_hash,
        )
        await conn.execute(
            "DELETE FROM staff_login_failure WHERE login_hash = $1", _keyed("login", login)
        )
        await _end_sessions(conn, row["id"])
        await audit.record(
            actor,
            Entity.ACCOUNT,
            login,
            "пароль сброшен",
            {"must_change_password": row["must_change_password"]},
            {"must_change_password": True},
        )
    return password


async def unlock(actor: Actor, login: str) -> None:
    """Lift a lock-out after failed sign-ins before it runs out."""
    async with database.transaction():
        conn = database.connection()
        await _locked_account(conn, login)
        cleared = await conn.fetchval(
            "WITH gone AS (DELETE FROM staff_login_failure WHERE login_hash = $1 RETURNING 1)"
            " SELECT count(*) FROM gone",
            _keyed("login", login),
        )
        if not cleared:
            return
        await audit.record(
            actor,
            Entity.ACCOUNT,
            login,
            "разблокирован",
            {"failed_logins": cleared},
            {"failed_logins": 0},
        )


async def enable_user(actor: Actor, login: str) -> None:
    async with database.transaction():
        conn = database.connection()
        row = await _locked_account(conn, login)
        if row["disabled_at"] is None:
            return
        await conn.execute("UPDATE staff_user SET disabled_at = NULL WHERE id = $1", row["id"])
        await audit.record(
            actor, Entity.ACCOUNT, login, "включён", {"disabled": True}, {"disabled": False}
        )
