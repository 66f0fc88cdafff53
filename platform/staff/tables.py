"""Staff accounts, their sessions and failed sign-ins, declared once for Piccolo.

migrations/staff/ creates the tables; chat_0001 adds ``staff_user.max_chats``.
"""

from __future__ import annotations

from piccolo.columns import BigInt, BigSerial, Boolean, Bytea, Integer, Text, Timestamptz
from piccolo.table import Table

from okno.platform.database import DatabaseNow
from okno.platform.staff.roles import Role


class StaffUser(Table, tablename="staff_user"):
    id = BigSerial(primary_key=True)
    login = Text(unique=True)
    display_name = Text()
    # What clients see instead of the name; unique, so a client can tell operators apart.
    pseudonym = Text(unique=True)
    role = Text(choices=Role)
    password_hash = Text()
    must_change_password = Boolean(default=False)
    disabled_at = Timestamptz(null=True, default=None)
    # Unused since staff_0002 moved the back-off to staff_login_failure; a new password still
    # clears them, as it always did.
    failed_logins = Integer(default=0)
    locked_until = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=DatabaseNow())
    max_chats = Integer(default=5)


class StaffSession(Table, tablename="staff_session"):
    # The SHA-256 of the cookie's token: the token itself is never stored.
    token_hash = Bytea(primary_key=True)
    user_id = BigInt()
    created_at = Timestamptz(default=DatabaseNow())
    expires_at = Timestamptz()
    last_seen_at = Timestamptz(default=DatabaseNow())


class StaffLoginFailure(Table, tablename="staff_login_failure"):
    # One row per failed sign-in; login and address only as keyed hashes.
    id = BigSerial(primary_key=True)
    login_hash = Bytea()
    ip_hash = Bytea(null=True, default=None)
    at = Timestamptz(default=DatabaseNow())
