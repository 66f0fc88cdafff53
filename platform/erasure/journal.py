"""The destructions' journal outside the database, for a restore from a backup.

A backup made before a destruction brings the destroyed data back when it is restored. So each
committed destruction appends one line to ``OKNO_DATA_DIR/destructions.jsonl``: the act's
number and digest, the subject's pseudonymous id, the scope and the registry fields, the legal
basis and the time. No value is written. After a restore, ``okno destruction reapply`` reads the
journal and destroys again (okno.platform.erasure.restore) whatever the restored database holds
of those subjects (a new act each, naming the first one), before processing resumes.

The file lives in the data folder, beside the database, not in it; keep it in the file backups
and out of the database's restore.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from okno.platform.settings import get_settings

logger = logging.getLogger("okno.erasure")
NAME = "destructions.jsonl"


def path() -> Path:
    return get_settings().data_path / NAME


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
