"""The chat and widget settings an admin edits, declared once for Piccolo
(migrations/chatsettings/ creates the table): one row per setting that differs from okno's
default."""

from __future__ import annotations

from piccolo.columns import JSONB, Text, Timestamptz
from piccolo.table import Table

from okno.platform.database import DatabaseNow


class ChatSetting(Table, tablename="chat_setting"):
    key = Text(primary_key=True)
    value = JSONB()
    updated_at = Timestamptz(default=DatabaseNow())
