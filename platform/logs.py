"""How okno's processes log: plain lines, or one JSON object a line (``OKNO_LOG_FORMAT=json``).

okno's own messages carry no personal data (identifiers and counts, never texts, names or
addresses). An exception's text may quote a value (a database error's detail), so a JSON line
names the exception's type and where it was raised, never its message.
"""

from __future__ import annotations

import logging
import os
import traceback
from datetime import UTC, datetime
from typing import Any

import msgspec

TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": os.getpid(),
        }
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            line["error"] = type(error).__name__
            line["where"] = [
                f"{frame.filename.rsplit('/', 2)[-1]}:{frame.lineno} {frame.name}"
                for frame in traceback.extract_tb(error.__traceback__)[-4:]
            ]
        return msgspec.json.encode(line).decode()


def formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def configure(level: str, log_format: str) -> None:
    """The root logger's one handler, on stderr, in the chosen format."""
    handler = logging.StreamHandler()
    handler.setFormatter(formatter(log_format))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def uvicorn_config(level: str, log_format: str) -> dict[str, Any]:
    """uvicorn's ``log_config``: its own messages in okno's format; no access log (paths may
    carry tokens, and the proxy keeps one)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "okno": {"()": JsonFormatter} if log_format == "json" else {"format": TEXT_FORMAT}
        },
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "okno"},
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }
