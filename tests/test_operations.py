"""Running okno as an administrator does: stop signals, ``okno check``, the systemd unit, logs."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from okno.platform.logs import JsonFormatter
from tests.chat_support import Client
from tests.conftest import ROOT, ServerProcess, free_port, new_database

pytestmark = pytest.mark.timeout(180)

EMBEDDED = ("DATABASE_URL", "OKNO_MIGRATION_DATABASE_URL")  # unset: the embedded database


def okno(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "okno.platform.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


@pytest.fixture(scope="module")
def embedded_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder whose embedded database is made and migrated once, as `okno migrate` does."""
    folder = tmp_path_factory.mktemp("embedded")
    env = {name: "" for name in EMBEDDED}
    made = okno("migrate", OKNO_DATA_DIR=str(folder), **env)
    assert made.returncode == 0, made.stderr
    return folder


def _left(pids: list[int]) -> list[int]:
    """Which of ``pids`` still run after a while (multiprocessing's resource tracker ends only
    once it sees its parent gone)."""
    running = []
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            running.append(psutil.Process(pid))
    _, alive = psutil.wait_procs(running, timeout=30)
    return [process.pid for process in alive if _runs(process)]


def _runs(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.mark.parametrize(
    ("stop", "workers"),
    [(signal.SIGTERM, 1), (signal.SIGINT, 1), (signal.SIGHUP, 1), (signal.SIGQUIT, 2)],
    ids=["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT-2-workers"],
)
async def test_each_stop_signal_stops_the_server_its_sockets_and_its_embedded_database(
    embedded_data: Path, stop: signal.Signals, workers: int
) -> None:
    server = ServerProcess("", workers=workers, unset=EMBEDDED, OKNO_DATA_DIR=str(embedded_data))
    try:
        postmaster = int((embedded_data / "postgres" / "postmaster.pid").read_text().split()[0])
        family = [server.process.pid, postmaster] + [
            child.pid for child in psutil.Process(server.process.pid).children(recursive=True)
        ]
        client = await Client.open(server.url)
        server.process.send_signal(stop)
        # The protocol's «reconnect» (docs/protocol.md): the page opens a new socket.
        assert (await client.closed_with())[0] == 1012
        assert server.process.wait(60) == 0
    finally:
        server.stop()
    left = _left(family)
    assert left == [], f"still running after {stop.name}: {left}; {server.log.read_text()}"
    assert "okno: остановлен" in server.log.read_text()


def test_check_passes_a_good_configuration(database_url: str, tmp_path: Path) -> None:
    result = okno("check", OKNO_DATA_DIR=str(tmp_path), OKNO_PUBLIC_URL="https://chat.example.ru")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for what in ("папка данных", "база данных", "владелец схемы", "миграции: все применены"):
        assert any(what in line and line.startswith("  ок") for line in lines), result.stdout
    assert any("секретный ключ" in line and "внимание" in line for line in lines)  # made later
    assert "okno: настройка в порядке" in result.stdout


def test_check_names_every_problem_and_exits_1(tmp_path: Path) -> None:
    closed = free_port()  # nothing listens there
    result = okno(
        "check",
        OKNO_DATA_DIR=str(tmp_path),
        DATABASE_URL=f"postgresql://okno@127.0.0.1:{closed}/okno",
        OKNO_MIGRATION_DATABASE_URL="",
        OKNO_PUBLIC_URL="https://chat.example.ru/okno/",
        OKNO_SMTP_HOST="127.0.0.1",
        OKNO_SMTP_PORT=str(closed),
    )
    assert result.returncode == 1, result.stdout + result.stderr
    problems = [line for line in result.stdout.splitlines() if "ОШИБКА" in line]
    assert [line.split(":")[0].split("ОШИБКА")[1].strip() for line in problems] == [
        "публичный адрес",
        "база данных",
        "почта",
    ], result.stdout
    assert "соединение отклонено" in problems[2]
    assert "найдено ошибок: 3" in result.stdout


def test_check_refuses_a_data_folder_it_cannot_write_and_a_wrong_setting(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    unwritable = okno("check", OKNO_DATA_DIR=str(tmp_path / "file" / "data"))
    assert unwritable.returncode == 1
    assert "ОШИБКА  папка данных" in unwritable.stdout, unwritable.stdout
    wrong = okno("check", OKNO_TRUSTED_PROXIES="the proxy")
    assert wrong.returncode == 2
    assert "OKNO_TRUSTED_PROXIES" in wrong.stderr


def test_check_reports_migrations_still_to_apply(database_url: str, tmp_path: Path) -> None:
    with new_database(migrate=False) as empty:
        result = okno("check", OKNO_DATA_DIR=str(tmp_path), **empty.env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "внимание миграции: не применено" in result.stdout, result.stdout


def test_the_systemd_unit_verifies(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    unit = (ROOT / "docs" / "deploy" / "okno.service").read_text()
    # Where this checkout is, instead of /opt/okno: verify checks that the commands exist.
    unit = unit.replace("/opt/okno", str(ROOT))
    (tmp_path / "okno.service").write_text(unit)
    result = subprocess.run(
        [analyze, "verify", str(tmp_path / "okno.service")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    # An unknown or misspelt option is only a warning: none is allowed either.
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""


def test_json_log_lines_name_an_exception_never_its_text() -> None:
    try:
        raise ValueError("ivan.petrov@example.ru")  # a database error may quote a value
    except ValueError:
        record = logging.LogRecord(
            "okno.test", logging.ERROR, __file__, 1, "frame %s failed", ("Send",), sys.exc_info()
        )
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "frame Send failed"
    assert (line["level"], line["logger"]) == ("error", "okno.test")
    assert line["error"] == "ValueError"
    assert "ivan.petrov" not in json.dumps(line)
