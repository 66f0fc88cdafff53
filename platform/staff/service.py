"""Staff accounts: creation, passwords, lock-out after failed logins, and sessions."""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import msgspec
from piccolo.columns import Column
from piccolo.query.functions.aggregate import Count, Max

from okno.platform import database
from okno.platform.audit import service as audit
from okno.platform.audit.service import COMMAND_LINE, Actor, Entity
from okno.platform.chat import notify, routing
from okno.platform.errors import Refused
from okno.platform.secret_key import secret_key
from okno.platform.settings import get_settings
from okno.platform.staff import passwords, queries
from okno.platform.staff.queries import session_valid as session_valid  # chat.service's import
from okno.platform.staff.roles import Role
from okno.platform.staff.tables import StaffLoginFailure, StaffSession
from okno.platform.staff.tables import StaffUser as Accounts  # not the StaffUser Struct below
from okno.platform.teams import service as teams
from okno.platform.teams.tables import Team, TeamMember

LOGIN_PATTERN = r"^[a-z0-9][a-z0-9._-]{1,39}$"
DEFAULT_MAX_CHATS = 5  # the column's default (chat_0001)
MAX_CHATS_LIMIT = 100  # the column's CHECK
# The sign-in back-off counts the failures of the last day; older ones are deleted.
BACKOFF_WINDOW = timedelta(days=1)
# What a StaffUser is read from.
USER_COLUMNS = (
    Accounts.id,
    Accounts.login,
    Accounts.display_name,
    Accounts.pseudonym,
    Accounts.role,
    Accounts.must_change_password,
    Accounts.disabled_at,
)


class StaffUser(msgspec.Struct, frozen=True):
    id: int
    login: str
    display_name: str
    pseudonym: str
    role: Role
    must_change_password: bool
    disabled_at: datetime | None = None


class StaffError(Refused):
    """A staff-account operation that cannot be done; the message says why (in Russian)."""


class LoginFailedError(StaffError):
    def __init__(self, locked_until: datetime | None = None) -> None:
        self.locked_until = locked_until
        super().__init__(
            "неверный логин или пароль" if locked_until is None else "вход заблокирован"
        )


def _user(row: asyncpg.Record | dict[str, Any]) -> StaffUser:
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
    if not re.fullmatch(LOGIN_PATTERN, login):
        raise StaffError(
            "логин: латинские строчные буквы, цифры, точка, дефис; от 2 до 40 символов"
        )
    if max_chats is not None and not 0 <= max_chats <= MAX_CHATS_LIMIT:
        raise StaffError(f"одновременных диалогов: от 0 до {MAX_CHATS_LIMIT}")
    password_hash = await passwords.hash_password(password, login)
    async with database.transaction():
        account = Accounts(
            login=login,
            display_name=display_name or login,
            pseudonym=f"S-{secrets.token_hex(3)}",
            role=role.value,
            password_hash=password_hash,
            must_change_password=must_change,
            max_chats=DEFAULT_MAX_CHATS if max_chats is None else max_chats,
        )
        try:
            rows = await Accounts.insert(account).returning(*USER_COLUMNS).run()
        except asyncpg.UniqueViolationError:
            raise StaffError(f"пользователь {login} уже существует") from None
        user = _user(rows[0])
        team_name = None
        # Operators join the default team unless told otherwise; a supervisor sees every
        # conversation anyway and joins a team only when one is named.
        if role == Role.OPERATOR or (role in teams.MEMBER_ROLES and team is not None):
            try:
                team_id = await teams.team_id_for(team)
                if team_id is not None:
                    await teams.join_in_transaction(team_id, user.id)
                    team_name = await teams.team_name(team_id)
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
    rows = await Accounts.select(*USER_COLUMNS).order_by(Accounts.login).run()
    return [_user(row) for row in rows]


async def team_names_of(user_id: int) -> list[str]:
    memberships = TeamMember.select(TeamMember.team_id).where(TeamMember.staff_id == user_id)
    rows = await Team.select(Team.name).where(Team.id.is_in(memberships)).order_by(Team.name).run()
    return [row["name"] for row in rows]


async def get_user(login: str) -> StaffUser:
    row = await Accounts.select(*USER_COLUMNS).where(Accounts.login == login).first().run()
    if row is None:
        raise StaffError(f"нет пользователя {login}")
    return _user(row)


async def disable_user(login: str, actor: Actor = COMMAND_LINE) -> None:
    async with database.transaction():
        before = await _locked_account(login)
        if before["disabled_at"] is not None:
            return
        await (
            Accounts.update({Accounts.disabled_at: database.NOW})
            .where(Accounts.id == before["id"])
            .run()
        )
        await _end_sessions(before["id"])
        await audit.record(
            actor, Entity.ACCOUNT, login, "отключён", {"disabled": False}, {"disabled": True}
        )


async def set_password(login: str, password: str, *, must_change: bool = False) -> None:
    """Set a new password; ends every session of the account and lifts a lock-out."""
    password_hash = await passwords.hash_password(password, login)
    async with database.transaction():
        changed = (
            await Accounts.update(
                {
                    Accounts.password_hash: password_hash,
                    Accounts.must_change_password: must_change,
                    Accounts.failed_logins: 0,
                    Accounts.locked_until: None,
                }
            )
            .where(Accounts.login == login)
            .returning(Accounts.id)
            .run()
        )
        if not changed:
            raise StaffError(f"нет пользователя {login}")
        await _forget_failures(login)
        await _end_sessions(changed[0]["id"])


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


async def _held_until(column: Column, value: bytes | None, threshold: int) -> datetime | None:
    """When the back-off on ``column`` ends, if it holds now; no ``value``, no back-off."""
    if value is None:
        return None
    return (await _failures(column, value)).held_until(threshold)


async def _forget_failures(login: str) -> None:
    """A new password, a success or an admin's unlock ends the login's run of failures."""
    await (
        StaffLoginFailure.delete()
        .where(StaffLoginFailure.login_hash == _keyed("login", login))
        .run()
    )


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
            await _forget_failures(login)
        await (
            Accounts.update({Accounts.password_hash: new_hash})
            .where(Accounts.id == row["id"])
            .run()
        )
    return _user(row)


async def password_hash_of(user_id: int) -> str:
    row = await Accounts.select(Accounts.password_hash).where(Accounts.id == user_id).first().run()
    if row is None:
        raise StaffError("нет такого пользователя")
    return row["password_hash"]


async def ensure_admin(login: str, password: str | None) -> str | None:
    """Create the first admin if there is none; returns the one-time password it generated."""
    if await Accounts.exists().where(Accounts.role == Role.ADMIN.value).run():
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
        await StaffSession.delete().where(StaffSession.expires_at < database.NOW).run()
        if replacing:
            replaced = (
                await StaffSession.delete()
                .where(StaffSession.token_hash == _token_hash(replacing))
                .returning(StaffSession.user_id)
                .run()
            )
            if replaced:
                await announce_sessions_ended(replaced[0]["user_id"], database.connection())
        await StaffSession.insert(
            StaffSession(
                token_hash=_token_hash(token),
                user_id=user_id,
                expires_at=database.now_plus(ttl),
            )
        ).run()
    return token


async def session_user(token: str, *, allow_must_change: bool = False) -> StaffUser | None:
    """The account of a live session: not expired, not idle longer than OKNO_SESSION_IDLE_MINUTES,
    account enabled. An account that must change its password gets nothing but the password
    page (``allow_must_change``): the guard of every other page, the API and the staff socket
    all see no user. Each use keeps the session from going idle."""
    if not token or len(token) > 100:
        return None
    async with database.acquire() as conn:
        row = await conn.fetchrow(queries.session_user(), _token_hash(token))
        if row is not None and row["stale"]:
            # Touched at most once a minute: a busy console does not write on every request.
            await conn.execute(queries.TOUCH_SESSION, _token_hash(token), _idle())
    if row is None or (row["must_change_password"] and not allow_must_change):
        return None
    return _user(row)


class SessionInfo(msgspec.Struct, frozen=True):
    created_at: datetime
    last_seen_at: datetime
    current: bool


async def sessions_of(user_id: int, current_token: str) -> list[SessionInfo]:
    """The account's live sessions, newest first; ``current``: the one asking."""
    rows = (
        await StaffSession.select(
            StaffSession.created_at, StaffSession.last_seen_at, StaffSession.token_hash
        )
        .where(StaffSession.user_id == user_id, StaffSession.expires_at > database.NOW)
        .order_by(StaffSession.created_at, ascending=False)
        .run()
    )
    asking = _token_hash(current_token)
    return [
        SessionInfo(r["created_at"], r["last_seen_at"], bytes(r["token_hash"]) == asking)
        for r in rows
    ]


async def end_other_sessions(user_id: int, current_token: str) -> int:
    """Ends every session of the account but the one asking; returns how many ended."""
    async with database.transaction():
        ended = (
            await StaffSession.delete()
            .where(
                StaffSession.user_id == user_id,
                StaffSession.token_hash != _token_hash(current_token),
            )
            .returning(StaffSession.user_id)
            .run()
        )
        if ended:
            await announce_sessions_ended(user_id, database.connection())
    return len(ended)


async def touch_session(token: str | None) -> None:
    """A sign of life from the session's console socket (its heartbeat): the session is used,
    so it does not go idle. At most one write a minute."""
    if not token:
        return
    async with database.acquire() as conn:
        await conn.execute(queries.TOUCH_SESSION, _token_hash(token), _idle())


def _idle() -> timedelta:
    return timedelta(minutes=get_settings().session_idle_minutes)


async def end_session(token: str) -> None:
    ended = (
        await StaffSession.delete()
        .where(StaffSession.token_hash == _token_hash(token))
        .returning(StaffSession.user_id)
        .run()
    )
    if ended:
        await announce_sessions_ended(ended[0]["user_id"])


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
    Accounts.id,
    Accounts.login,
    Accounts.display_name,
    Accounts.pseudonym,
    Accounts.role,
    Accounts.max_chats,
    Accounts.must_change_password,
    Accounts.disabled_at,
)


async def list_accounts() -> list[Account]:
    rows = await Accounts.select(*ACCOUNT_COLUMNS).order_by(Accounts.login).run()
    return [await _account_with_backoff(row) for row in rows]


async def get_account(login: str) -> Account:
    row = await Accounts.select(*ACCOUNT_COLUMNS).where(Accounts.login == login).first().run()
    if row is None:
        raise StaffError(f"нет пользователя {login}")
    return await _account_with_backoff(row)


async def _account_with_backoff(row: dict[str, Any]) -> Account:
    """The account with its login's sign-in back-off (per address back-off is not the
    account's: an admin does not lift it)."""
    failures = await _failures(StaffLoginFailure.login_hash, _keyed("login", row["login"]))
    return Account(
        **{**row, "role": Role(row["role"])},
        failed_logins=failures.count,
        locked_until=failures.held_until(get_settings().login_max_failures),
    )


async def _locked_account(login: str) -> dict[str, Any]:
    """The account, its row locked for the caller's transaction: two admins' changes of one
    account apply one after the other, each audited against what it really replaced."""
    row = (
        await Accounts.select(*ACCOUNT_COLUMNS)
        .where(Accounts.login == login)
        .lock_rows()
        .first()
        .run()
    )
    if row is None:
        raise StaffError(f"нет пользователя {login}")
    return row


async def _end_sessions(user_id: int) -> None:
    """End every session of an account in the caller's transaction; its open sockets on
    every worker close at commit."""
    await StaffSession.delete().where(StaffSession.user_id == user_id).run()
    await announce_sessions_ended(user_id, database.connection())


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
        row = await _locked_account(login)
        before = {name: row[name] for name in after}
        if before == after:
            return
        try:
            await (
                Accounts.update(
                    {
                        Accounts.display_name: display_name,
                        Accounts.pseudonym: pseudonym,
                        Accounts.max_chats: profile.max_chats,
                    }
                )
                .where(Accounts.id == row["id"])
                .run()
            )
        except asyncpg.UniqueViolationError:
            raise StaffError(f"псевдоним «{pseudonym}» уже занят") from None
        await audit.record(actor, Entity.ACCOUNT, login, "изменён", before, after)
    if after["max_chats"] > before["max_chats"]:
        await routing.assign_waiting()


async def set_role(actor: Actor, login: str, role: Role) -> None:
    """Change an account's role; its sessions end (their rights were the old role's)."""
    async with database.transaction():
        row = await _locked_account(login)
        if row["role"] == role.value:
            return
        if row["id"] == actor.id:
            raise StaffError("нельзя изменить роль собственной учётной записи")
        if row["role"] == Role.ADMIN and not await _other_admin(row["id"]):
            raise StaffError("это последний администратор")
        await Accounts.update({Accounts.role: role.value}).where(Accounts.id == row["id"]).run()
        if role not in teams.MEMBER_ROLES:
            # Teams are for those who take chats; a DPO or admin in a team would be a
            # candidate for nothing and clutter the lists.
            await TeamMember.delete().where(TeamMember.staff_id == row["id"]).run()
        await _end_sessions(row["id"])
        await audit.record(
            actor, Entity.ACCOUNT, login, "роль", {"role": row["role"]}, {"role": role.value}
        )


async def _other_admin(user_id: int) -> bool:
    return await (
        Accounts.exists()
        .where(
            Accounts.role == Role.ADMIN.value,
            Accounts.disabled_at.is_null(),
            Accounts.id != user_id,
        )
        .run()
    )


async def reset_password(actor: Actor, login: str) -> str:
    """A one-time password (returned once, stored only as a hash) that must be changed."""
    password = secrets.token_urlsafe(12)
    password_hash = await passwords.hash_password(password, login)
    async with database.transaction():
        row = await _locked_account(login)
        if row["disabled_at"] is not None:
            raise StaffError("учётная запись отключена: сначала включите её")
        await (
            Accounts.update(
                {Accounts.password_hash: password_hash, Accounts.must_change_password: True}
            )
            .where(Accounts.id == row["id"])
            .run()
        )
        await _forget_failures(login)
        await _end_sessions(row["id"])
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
        await _locked_account(login)
        cleared = len(
            await StaffLoginFailure.delete()
            .where(StaffLoginFailure.login_hash == _keyed("login", login))
            .returning(StaffLoginFailure.id)
            .run()
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
        row = await _locked_account(login)
        if row["disabled_at"] is None:
            return
        await Accounts.update({Accounts.disabled_at: None}).where(Accounts.id == row["id"]).run()
        await audit.record(
            actor, Entity.ACCOUNT, login, "включён", {"disabled": True}, {"disabled": False}
        )
