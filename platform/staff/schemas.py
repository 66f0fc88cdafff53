"""What the staff feature hands out: an account as the rest of okno sees it (``StaffUser``), as
the admin's page shows it (``Account``), a profile change and a live session."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from okno.platform.staff.roles import Role
from okno.platform.staff.tables import StaffUser as Accounts  # the table, not the Struct below


class StaffUser(msgspec.Struct, frozen=True):
    id: int
    login: str
    display_name: str
    pseudonym: str
    role: Role
    must_change_password: bool
    disabled_at: datetime | None = None


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


def staff_user(row: asyncpg.Record | dict[str, Any]) -> StaffUser:
    """The StaffUser of a row that has the USER_COLUMNS (and maybe more)."""
    values = {name: row[name] for name in StaffUser.__struct_fields__}
    return StaffUser(**{**values, "role": Role(row["role"])})


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


class Profile(msgspec.Struct, frozen=True):
    display_name: str
    pseudonym: str
    max_chats: int


class SessionInfo(msgspec.Struct, frozen=True):
    created_at: datetime
    last_seen_at: datetime
    current: bool
