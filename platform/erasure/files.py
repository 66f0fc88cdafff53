"""Files an eraser destroys (attachments, letters in the outbox): overwritten with zeros, then
deleted, once the destruction commits, so that a destruction rolled back leaves every file in
place."""

from __future__ import annotations

import contextlib
import os
from contextvars import ContextVar
from pathlib import Path

# Files to delete after commit, so that a destruction rolled back leaves every file in place.
PENDING_FILES: ContextVar[list[Path] | None] = ContextVar("okno_pending_files", default=None)


def unlink(paths: list[Path]) -> None:
    """Overwrite each file with zeros (flushed to the disk), then delete it. On a journaling
    or copy-on-write file system, or an SSD, old blocks may survive the overwrite: the act and
    docs/dpo.md say so."""
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            overwrite(path)
            path.unlink()


def overwrite(path: Path) -> None:
    size = path.stat().st_size
    with path.open("r+b") as file:
        block = b"\0" * 65536
        left = size
        while left > 0:
            left -= file.write(block[: min(left, len(block))])
        file.flush()
        os.fsync(file.fileno())


def defer_unlink(paths: list[Path]) -> None:
    """Files an eraser destroys: deleted (overwritten first) once the destruction commits, so a
    rolled-back destruction leaves every file in place."""
    pending = PENDING_FILES.get()
    if pending is not None:
        pending.extend(paths)
    else:
        unlink(paths)
