"""The server's secret key: from OKNO_SECRET_KEY, or made once and kept in the data folder."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile

from okno.platform.settings import Settings


def secret_key(settings: Settings) -> str:
    if settings.secret_key:
        return settings.secret_key
    path = settings.data_path / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, draft = tempfile.mkstemp(dir=path.parent)  # created with mode 0600
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(48))
        # link() never replaces: when several workers start at once, the first key wins.
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
        os.unlink(draft)
    return path.read_text().strip()
