"""Settings: one Struct from the environment, a clear line for a wrong value, all documented."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from okno.platform.settings import ENV, SettingsError, load_settings

ROOT = Path(__file__).resolve().parent.parent


def test_defaults_need_no_configuration() -> None:
    settings = load_settings({})
    assert settings.database_url is None
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)


def test_values_are_read_from_the_environment() -> None:
    settings = load_settings(
        {"OKNO_PORT": "9001", "DATABASE_URL": "postgresql://db/okno", "OKNO_WORKERS": "2"}
    )
    assert (settings.port, settings.database_url, settings.workers) == (
        9001,
        "postgresql://db/okno",
        2,
    )


@pytest.mark.parametrize(
    ("variable", "value", "explanation"),
    [
        ("OKNO_PORT", "eighty", "Expected `int`"),
        ("OKNO_PORT", "70000", "<= 65535"),
        ("OKNO_COOKIE_SECURE", "yes", "Invalid enum value 'yes'"),
        ("OKNO_ARGON2_MEMORY_KIB", "1024", ">= 19456"),
        ("OKNO_SECRET_KEY", "short", "length >= 32"),
        ("OKNO_LOG_LEVEL", "loud", "Invalid enum value"),
    ],
)
def test_a_wrong_value_is_named_with_what_is_allowed(
    variable: str, value: str, explanation: str
) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings({variable: value})
    assert str(error.value).startswith(f"{variable}: ")
    assert explanation in str(error.value)


def test_a_wrong_value_stops_the_command_with_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "okno.platform.cli", "migrate"],
        env={**os.environ, "OKNO_PORT": "0"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "okno: неверная настройка OKNO_PORT: Expected `int` >= 1"
    ]


def test_every_setting_is_documented() -> None:
    documented = set(
        re.findall(r"^\| `([A-Z0-9_]+)` \|", (ROOT / "docs/configuration.md").read_text(), re.M)
    )
    assert documented == set(ENV.values())
