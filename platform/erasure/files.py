"""Files an eraser destroys (attachments in the storage, letters in the outbox): overwritten with
zeros where they are local, then deleted, once the destruction commits, so that a destruction
rolled back leaves every file in place."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from contextvars import ContextVar
from pathlib import Path

from okno.platform import storage
from okno.platform.storage import StoredFile

# A data-folder file, or an attachment's file in the storage (a folder or a bucket).
Doomed = Path | StoredFile

# Files to delete after commit, so that a destruction rolled back leaves every file in place.
PENDING_FILES: ContextVar[list[Doomed] | None] = ContextVar("okno_pending_files", default=None)


def unlink(doomed: Sequence[Doomed]) -> None:
    """Overwrite each local file with zeros (flushed to the disk), then delete it; a bucket's
    object is deleted through the provider's API."""
    for item in doomed:
        if isinstance(item, StoredFile):
            storage.files().delete(item.key)
            continue
        with contextlib.suppress(FileNotFoundError):
            storage.overwrite(item)
            item.unlink()


def defer_unlink(doomed: Sequence[Doomed]) -> None:
    """Files an eraser destroys: deleted (overwritten first) once the destruction commits, so a
    rolled-back destruction leaves every file in place."""
    pending = PENDING_FILES.get()
    if pending is not None:
        pending.extend(doomed)
    else:
        unlink(doomed)
