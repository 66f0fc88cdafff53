"""The one error type of the domain: an operation okno refuses, with the reason in Russian.

Each area's errors subclass ``Refused``; the web layer translates it once (an HTTP answer with
``status_code``, a socket error frame), so no controller repeats ``except … raise``.
"""

from __future__ import annotations


class Refused(Exception):  # noqa: N818 — the name is the concept (an operation refused), shared by every area
    """An operation that cannot be done; ``message`` says why, in Russian, to the person asking."""

    status_code: int = 400

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class NotFound(Refused):
    """What was asked for does not exist (or is not the asker's to see)."""

    status_code = 404


class Conflict(Refused):
    """The request contradicts the current state (a duplicate, a stale version)."""

    status_code = 409


class TooMany(Refused):
    """Too many attempts in too short a time; the asker must wait."""

    status_code = 429
