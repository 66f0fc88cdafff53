"""okno's notion of "now" for scheduling (working hours, the queue's next opening).

In production it is the system clock. Tests move it without sleeping: with the test-only
setting ``OKNO_TEST_CLOCK_FILE``, ``now()`` reads an ISO 8601 moment with its offset from that
file on every call, so a test rewrites the file and every worker of the server sees the new
time at once. An empty or missing file means the real time. The setting is refused together
with an https ``OKNO_PUBLIC_URL`` (a production deployment); see docs/configuration.md.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from okno.platform.settings import get_settings


class ClockFileError(RuntimeError):
    """The test clock file holds something that is not a moment with its time zone."""


def now() -> datetime:
    path = get_settings().test_clock_file
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            text = ""
        if text:
            return _parse(text)
    return datetime.now(UTC)


def _parse(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ClockFileError(f"OKNO_TEST_CLOCK_FILE: не момент ISO 8601: {text!r}") from None
    if moment.tzinfo is None:
        raise ClockFileError("OKNO_TEST_CLOCK_FILE: укажите смещение, например +03:00")
    return moment.astimezone(UTC)
