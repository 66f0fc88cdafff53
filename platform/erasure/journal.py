"""The destructions' journal outside the database, for a restore from a backup.

A backup made before a destruction brings the destroyed data back when it is restored. So each
committed destruction appends one line to the journal (``OKNO_DESTRUCTION_JOURNAL``, by default
``OKNO_DATA_DIR/destructions.jsonl``): the act's
number and digest, the subject's pseudonymous id, the scope and the registry fields, the legal
basis and the time. No value is written. After a restore, ``okno destruction reapply`` reads the
journal and destroys again (okno.platform.erasure.restore) whatever the restored database holds
of those subjects (a new act each, naming the first one), before processing resumes.

The file lives outside the database and outside ``okno backup``'s copies; on several hosts, and
for a server that may be lost with its disk, point the setting at a folder every host and the
backups share. ``okno restore`` also copies into it, before it replaces the database, every act
the newer database holds that the journal lacks (``take_from``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg

from okno.platform.erasure import queries
from okno.platform.settings import get_settings

logger = logging.getLogger("okno.erasure")
NAME = "destructions.jsonl"


def path() -> Path:
    settings = get_settings()
    if settings.destruction_journal:
        return Path(settings.destruction_journal).resolve()
    return settings.data_path / NAME


@dataclass(frozen=True)
class RecordedAct:
    """An act as the database keeps it (``destruction_act``), for ``append``."""

    id: int
    sha256: str
    subject_id: uuid.UUID
    scope: str
    act: dict[str, Any]
    created_at: datetime


def append(act: Any) -> None:
    """After commit: one line per act, flushed to the disk."""
    line = {
        "act": act.id,
        "sha256": act.sha256,
        "subject": str(act.subject_id),
        "scope": act.scope,
        "fields": [c["field"] for c in act.act["categories"]] if act.scope == "fields" else [],
        "legal_basis": act.act["legal_basis"],
        "at": act.created_at.isoformat(),
    }
    target = path()
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("a", encoding="utf-8") as file:
        file.write(json.dumps(line, ensure_ascii=False) + "\n")
        file.flush()
        os.fsync(file.fileno())


async def take_from(conn: asyncpg.Connection) -> int:
    """Before a restore replaces this database with an older one: a line for each of its acts
    the journal lacks (known by number and digest: numbers repeat after a restore)."""
    known = {(line["act"], line["sha256"]) for line in entries()}
    added = 0
    for row in await conn.fetch(queries.ACTS_FOR_JOURNAL):
        if (row["id"], row["sha256"]) in known:
            continue
        act = RecordedAct(
            row["id"],
            row["sha256"],
            row["subject_id"],
            row["scope"],
            json.loads(row["act"]),
            row["created_at"],
        )
        await asyncio.to_thread(append, act)
        added += 1
    return added


def entries() -> list[dict[str, Any]]:
    target = path()
    if not target.is_file():
        return []
    found = []
    for number, text in enumerate(target.read_text(encoding="utf-8").splitlines(), 1):
        if not text.strip():
            continue
        try:
            found.append(json.loads(text))
        except json.JSONDecodeError:
            logger.warning("destructions journal: line %s is not JSON, skipped", number)
    return found
