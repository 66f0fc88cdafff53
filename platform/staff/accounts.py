"""Staff accounts: creation, passwords, roles, profiles, enabling and disabling.

Every change made in the console is kept in the staff audit log (okno.platform.audit); those
that change rights or credentials end the account's sessions.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

import asyncpg

from okno.platform import database
from okno.platform.audit import service as audit
from okno.platform.audit.service import COMMAND_LINE, Actor, Entity
from okno.platform.chat import routing
from okno.platform.settings import get_settings
from okno.platform.staff import passwords, sessions, signin
from okno.platform.staff.errors import StaffError
from okno.platform.staff.roles import Role
from okno.platform.staff.schemas import USER_COLUMNS, Account, Profile, StaffUser, staff_user
from okno.platform.staff.tables import StaffUser as Accounts  # the table, not the Struct
from okno.platform.teams import service as teams
from okno.platform.teams.tables import Team, TeamMember

LOGIN_PATTERN = r"^[a-z0-9][a-z0-9._-]{1,39}$"
DEFAULT_MAX_CHATS = 5  # the column's default (chat_0001)
MAX_CHATS_LIMIT = 100  # the column's CHECK
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
        user = staff_user(rows[0])
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


async def ensure_admin(login: str, password: str | None) -> str | None:
    """Create the first admin if there is none; returns the one-time password it generated."""
    if await Accounts.exists().where(Accounts.role == Role.ADMIN.value).run():
        return None
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    await create_user(login, Role.ADMIN, password, "Администратор", must_change=generated)
    return password if generated else None


async def list_users() -> list[StaffUser]:
    rows = await Accounts.select(*USER_COLUMNS).order_by(Accounts.login).run()
    return [staff_user(row) for row in rows]


async def team_names_of(user_id: int) -> list[str]:
    memberships = TeamMember.select(TeamMember.team_id).where(TeamMember.staff_id == user_id)
    rows = await Team.select(Team.name).where(Team.id.is_in(memberships)).order_by(Team.name).run()
    return [row["name"] for row in rows]


async def get_user(login: str) -> StaffUser:
    row = await Accounts.select(*USER_COLUMNS).where(Accounts.login == login).first().run()
    if row is None:
        raise StaffError(f"нет пользователя {login}")
    return staff_user(row)


async def list_accounts() -> list[Account]:
    rows = await Accounts.select(*ACCOUNT_COLUMNS).order_by(Accounts.login).run()
    return [await _account_with_backoff(row) for row in rows]


async def get_account(login: str) -> Account:
    row = await Accounts.select(*ACCOUNT_COLUMNS).where(Accounts.login == login).first().run()
    if row is None:
        raise StaffError(f"нет пользователя {login}")
    return await _account_with_backoff(row)


async def _account_with_backoff(row: dict[str, Any]) -> Account:
    """The account with its login's sign-in back-off."""
    failures = await signin.login_failures(row["login"])
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
        await signin.forget_failures(login)
        await sessions.end_every_session(changed[0]["id"])


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
        await sessions.end_every_session(row["id"])
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
        await signin.forget_failures(login)
        await sessions.end_every_session(row["id"])
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
        cleared = await signin.forget_failures(login)
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
        await sessions.end_every_session(before["id"])
        await audit.record(
            actor, Entity.ACCOUNT, login, "отключён", {"disabled": False}, {"disabled": True}
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
