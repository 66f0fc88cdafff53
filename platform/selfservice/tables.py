"""What self-service keeps: portal sessions, one-time sign-in codes, exports, and the mail
outbox, declared once for Piccolo (migrations/selfservice/ creates them)."""

from __future__ import annotations

from piccolo.columns import UUID, BigSerial, Bytea, Integer, Text, Timestamptz
from piccolo.table import Table

from okno.platform.database import DatabaseNow


class PortalSession(Table, tablename="portal_session"):
    """A signed-in browser: only the SHA-256 of its cookie's token is kept."""

    token_hash = Bytea(primary_key=True)
    subject_id = UUID()
    via = Text()  # visitor, code
    created_at = Timestamptz(default=DatabaseNow())
    expires_at = Timestamptz()


class PortalCode(Table, tablename="portal_code"):
    """A one-time code asked for, also for an address nobody holds (subject_id NULL); the
    address, the IP and the code are kept only as keyed hashes."""

    id = BigSerial(primary_key=True)
    login_hash = Bytea()
    subject_id = UUID(null=True, default=None)
    address_hash = Bytea()
    ip_hash = Bytea(null=True, default=None)
    code_hash = Bytea()
    attempts = Integer(default=0)
    created_at = Timestamptz(default=DatabaseNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class PortalExport(Table, tablename="portal_export"):
    id = Text(primary_key=True)  # random, with the format as its extension
    subject_id = UUID()
    format = Text()  # json, html
    body = Bytea()
    created_at = Timestamptz(default=DatabaseNow())
    expires_at = Timestamptz()


class MailOutbox(Table, tablename="mail_outbox"):
    """A letter written to the outbox folder (no SMTP server configured), so destruction can
    find the subject's letters."""

    id = Text(primary_key=True)
    subject_id = UUID(null=True, default=None)
    path = Text()
    created_at = Timestamptz(default=DatabaseNow())
