"""The ``okno`` command: staff accounts and migrations from the shell, with clear errors."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest

from tests.conftest import STAFF_PASSWORD

pytestmark = pytest.mark.usefixtures("database_url")


def okno(*args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ}
    env.pop("OKNO_PASSWORD", None)
    if password is not None:
        env["OKNO_PASSWORD"] = password
    return subprocess.run(
        [sys.executable, "-m", "okno.platform.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_migrate_is_idempotent() -> None:
    first, second = okno("migrate"), okno("migrate")
    assert first.returncode == second.returncode == 0, first.stderr
    assert "схема базы данных актуальна" in second.stdout


def test_user_add_list_disable_and_reset_password() -> None:
    login = f"op-{secrets.token_hex(3)}"
    added = okno(
        "user",
        "add",
        login,
        "--role",
        "operator",
        "--name",
        "Оператор Тест",
        password=STAFF_PASSWORD,
    )
    assert added.returncode == 0, added.stderr
    listed = okno("user", "list")
    assert f"{login}\toperator\tОператор Тест\tактивен" in listed.stdout
    reset = okno("user", "reset-password", login, password="another-password-1")
    assert reset.returncode == 0, reset.stderr
    disabled = okno("user", "disable", login)
    assert disabled.returncode == 0, disabled.stderr
    assert f"{login}\toperator\tОператор Тест\tотключён" in okno("user", "list").stdout


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (("user", "add", "someone", "--role", "operator"), None, "OKNO_PASSWORD"),
        (("user", "add", "someone", "--role", "operator"), "short", "не короче 10"),
        (("user", "add", "Has Space", "--role", "operator"), STAFF_PASSWORD, "логин"),
        (("user", "disable", "nobody-at-all"), None, "нет пользователя nobody-at-all"),
        (("user", "reset-password", "nobody-at-all"), STAFF_PASSWORD, "нет пользователя"),
    ],
)
def test_errors_exit_non_zero_with_a_message(
    args: tuple[str, ...], password: str | None, message: str
) -> None:
    result = okno(*args, password=password)
    assert result.returncode == 1
    assert message in result.stderr


def test_a_login_cannot_be_added_twice() -> None:
    login = f"op-{secrets.token_hex(3)}"
    assert okno("user", "add", login, "--role", "operator", password=STAFF_PASSWORD).returncode == 0
    again = okno("user", "add", login, "--role", "dpo", password=STAFF_PASSWORD)
    assert again.returncode == 1
    assert f"пользователь {login} уже существует" in again.stderr


def test_an_unknown_role_is_refused_by_the_parser() -> None:
    result = okno("user", "add", "someone", "--role", "root", password=STAFF_PASSWORD)
    assert result.returncode == 2
    assert "invalid choice: 'root'" in result.stderr


def test_an_unreachable_database_is_reported() -> None:
    env_url = "postgresql://postgres@127.0.0.1:1/okno"
    result = subprocess.run(
        [sys.executable, "-m", "okno.platform.cli", "migrate"],
        env={**os.environ, "DATABASE_URL": env_url, "OKNO_MIGRATION_DATABASE_URL": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "база данных недоступна" in result.stderr


def test_user_add_puts_an_operator_into_the_team_named() -> None:
    login = f"op-{secrets.token_hex(3)}"
    added = okno("user", "add", login, "--role", "operator", password=STAFF_PASSWORD)
    assert added.returncode == 0, added.stderr
    assert "команда Поддержка" in added.stdout  # the default team
    other = f"op-{secrets.token_hex(3)}"
    added = okno(
        "user", "add", other, "--role", "operator", "--team", "Поддержка", "--max-chats", "3",
        password=STAFF_PASSWORD,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "команда Поддержка" in added.stdout


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--role", "operator", "--team", "Нет такой"], "нет действующей команды «Нет такой»"),
        (["--role", "dpo", "--team", "Поддержка"], "в команды входят только операторы"),
        (["--role", "operator", "--max-chats", "500"], "одновременных диалогов: от 0 до 100"),
    ],
)
def test_user_add_refuses_a_bad_team_or_capacity_and_adds_nobody(
    extra: list[str], message: str
) -> None:
    login = f"op-{secrets.token_hex(3)}"
    refused = okno("user", "add", login, *extra, password=STAFF_PASSWORD)
    assert refused.returncode == 1
    assert message in refused.stderr
    assert login not in okno("user", "list").stdout
