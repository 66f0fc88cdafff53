"""The ``okno`` command: serve, migrate, staff accounts, and the processing-log check."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import uvicorn
from uvicorn.supervisors.multiprocess import Multiprocess

from okno.platform import backup, check, database, embedded_db, logs
from okno.platform.backup import BackupError
from okno.platform.consent.defaults import ensure_published, operator_warnings
from okno.platform.erasure import destruction, restore, retention
from okno.platform.migrate import MigrationError, guarding_problem, migrate
from okno.platform.processing_log import service as log_service
from okno.platform.settings import SettingsError, get_settings
from okno.platform.staff import accounts
from okno.platform.staff.errors import StaffError
from okno.platform.staff.passwords import WeakPasswordError
from okno.platform.staff.roles import Role

ADMIN_LOGIN = "admin"
# What stops `okno serve` gracefully (docs/deploy.md, «Остановка»): systemd's and docker's
# SIGTERM, Ctrl-C's SIGINT, a closed terminal's SIGHUP, Ctrl-\'s SIGQUIT.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT)


class CommandError(Exception):
    """A command that cannot do what was asked; the message is printed and the exit code is 1."""


def _use_database() -> Any:
    """Point okno at its database: DATABASE_URL, or the embedded server in the data folder.

    The embedded server gets both roles: its superuser migrates, ``okno_app`` serves.
    Returns the embedded server's handle (kept alive for the life of the command) or None.
    """
    settings = get_settings()
    if settings.database_url:
        return None

    server = embedded_db.start(settings.data_path / "postgres")
    os.environ["OKNO_MIGRATION_DATABASE_URL"] = embedded_db.url(server)
    os.environ["DATABASE_URL"] = embedded_db.app_url(server)
    get_settings.cache_clear()
    return server


def _migrate() -> None:
    settings = get_settings()
    owner = settings.migration_database_url or settings.database_url or ""
    asyncio.run(migrate(owner, settings.database_url))


def _run(work: Callable[[], Awaitable[int | None]]) -> int:

    async def with_pool() -> int | None:
        await database.start_pool(2)
        try:
            return await work()
        finally:
            await database.close_pool()

    return asyncio.run(with_pool()) or 0


def _password(prompt: str) -> str:
    if password := os.environ.get("OKNO_PASSWORD"):
        return password
    if not sys.stdin.isatty():
        raise CommandError("задайте пароль в OKNO_PASSWORD или запустите команду в терминале")
    first = getpass.getpass(f"{prompt}: ")
    if getpass.getpass("Повторите: ") != first:
        raise CommandError("пароли не совпадают")
    return first


MARKS = {"ok": "  ок     ", "warning": "  внимание", "problem": "  ОШИБКА "}


def cmd_check(_: argparse.Namespace) -> int:
    """Every check of okno.platform.check, one line each; 1 if any found a problem."""
    settings = get_settings()
    found = [check.data_folder(settings)]
    server = None
    if found[0].verdict != "problem":
        try:
            server = _use_database()
        except (OSError, RuntimeError) as error:
            found.append(
                check.Finding(
                    "problem", "встроенная база данных", f"не запустилась ({type(error).__name__})"
                )
            )
    try:
        if len(found) == 1:
            found = asyncio.run(check.run(get_settings()))
    finally:
        del server
    for finding in found:
        print(f"{MARKS[finding.verdict]} {finding.what}: {finding.detail}")
    problems = sum(finding.verdict == "problem" for finding in found)
    if problems:
        print(f"okno: найдено ошибок: {problems}; сервер с этой настройкой не запускайте")
        return 1
    print("okno: настройка в порядке")
    return 0


def cmd_migrate(_: argparse.Namespace) -> int:
    _migrate()
    print("okno: схема базы данных актуальна")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:

    settings = get_settings()
    backup.refuse_start()  # a restore's replay of destructions must finish first
    _migrate()
    _run(lambda: _prepare(settings.admin_password))
    host, port = args.host or settings.host, args.port or settings.port
    print(f"okno: открыт на http://{host}:{port} (Ctrl-C — остановить)", flush=True)
    log_level = "warning" if settings.log_level == "info" else settings.log_level
    config = uvicorn.Config(
        "okno.platform.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=args.workers or settings.workers,
        log_level=log_level,
        log_config=logs.uvicorn_config(log_level, settings.log_format),
        # X-Forwarded-For and -Proto are believed only from these (docs/deploy.md).
        proxy_headers=True,
        forwarded_allow_ips=settings.trusted_proxies.replace(",", " ").split(),
        ws_max_size=settings.max_request_bytes,
        # Chat frames are small JSON: compression saves little and costs ~44 KiB per socket.
        ws_per_message_deflate=False,
        server_header=False,
        # Request headers must arrive within OKNO_HEADER_TIMEOUT_SECONDS (slowloris).
        http="okno.platform.web.slow_headers:HeaderDeadlineProtocol",
        timeout_keep_alive=5,
        timeout_graceful_shutdown=settings.shutdown_timeout_seconds,
        # A new worker answers the supervisor's health check only once it has imported okno:
        # seconds on a busy host, where uvicorn's 5 s would kill and respawn it for ever.
        timeout_worker_healthcheck=60,
    )
    if config.workers > 1:
        StoppingWorkers(config, sockets=[config.bind_socket()]).run()
    else:
        server = StoppingServer(config)
        server.run()
        if not server.started:
            raise CommandError("сервер не запустился (подробности выше)")
    print("okno: остановлен", flush=True)
    return 0


class StoppingServer(uvicorn.Server):
    """uvicorn's server, stopped gracefully by each of STOP_SIGNALS (its own handles two).

    uvicorn re-raises the caught signal once it has stopped, and SIGTERM's default action then
    kills the process before the embedded database is stopped (its atexit hook); okno returns
    instead, and the command ends normally.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


class StoppingWorkers(Multiprocess):
    """The supervisor of OKNO_WORKERS > 1: SIGHUP and SIGQUIT stop it too (uvicorn's restarts
    the workers on SIGHUP and ignores SIGQUIT); it stops each worker with SIGTERM, gracefully."""

    handle_hup = Multiprocess.handle_term
    handle_quit = Multiprocess.handle_term


async def _prepare(password: str | None) -> None:
    """What a first start needs besides the schema: an admin, and published consent texts."""

    for warning in operator_warnings():
        print(f"okno: ВНИМАНИЕ: {warning}", file=sys.stderr, flush=True)
    async with database.acquire() as conn:
        problem = await guarding_problem(conn)
    if problem:
        print(
            f"okno: ВНИМАНИЕ: {problem} и может менять журнал обработки в обход его защиты;"
            " задайте OKNO_MIGRATION_DATABASE_URL (docs/configuration.md)",
            file=sys.stderr,
            flush=True,
        )
    published = await ensure_published()
    if published:
        print(f"okno: опубликованы первые редакции документов: {', '.join(published)}", flush=True)
    generated = await accounts.ensure_admin(ADMIN_LOGIN, password)
    if generated:
        print(
            "okno: создан первый администратор.\n"
            f"      логин:  {ADMIN_LOGIN}\n"
            f"      пароль: {generated}\n"
            "      Пароль одноразовый: при первом входе okno попросит задать свой.",
            flush=True,
        )


def cmd_user_add(args: argparse.Namespace) -> int:

    password = _password(f"Пароль для {args.login}")

    async def work() -> None:
        user = await accounts.create_user(
            args.login,
            Role(args.role),
            password,
            args.name,
            team=args.team,
            max_chats=args.max_chats,
        )
        teams = await accounts.team_names_of(user.id)
        where = f", команда {', '.join(teams)}" if teams else ""
        print(f"okno: добавлен {user.login} ({user.role}), псевдоним {user.pseudonym}{where}")

    return _run(work)


def cmd_user_list(_: argparse.Namespace) -> int:

    async def work() -> None:
        for user in await accounts.list_users():
            state = "отключён" if user.disabled_at else "активен"
            print(f"{user.login}\t{user.role}\t{user.display_name}\t{state}")

    return _run(work)


def cmd_user_disable(args: argparse.Namespace) -> int:

    async def work() -> None:
        await accounts.disable_user(args.login)  # audited as the command line
        print(f"okno: {args.login} отключён, его сеансы завершены")

    return _run(work)


def cmd_user_reset_password(args: argparse.Namespace) -> int:

    async def work() -> None:
        await accounts.get_user(args.login)
        password = _password(f"Новый пароль для {args.login}")
        await accounts.set_password(args.login, password)
        print(f"okno: пароль {args.login} изменён, его сеансы завершены")

    return _run(work)


def cmd_log_verify(_: argparse.Namespace) -> int:

    async def work() -> int:
        async with database.acquire() as conn:
            result = await log_service.verify_and_anchor(conn, "okno log verify")
        if result.ok:
            print(f"okno: журнал обработки цел, проверено записей: {result.checked}")
            if result.head is not None:
                print(
                    f"okno: голова цепочки: звено {result.head.position},"
                    f" SHA-256 {result.head.hash}\n"
                    f"      сохранена в {log_service.anchor_path()};"
                    " сохраните её и вне сервера: следующая проверка сверится с ней"
                )
            return 0
        print(
            f"okno: журнал обработки нарушен на записи {result.first_bad_id}: {result.problem}"
            f" (до неё проверено записей: {result.checked})",
            file=sys.stderr,
        )
        return 3

    return _run(work)


def cmd_retention_run(_: argparse.Namespace) -> int:

    async def work() -> int:
        destruction.load_erasers()
        summary = await retention.run("cli")
        if summary.skipped:
            print("okno: задание хранения уже выполняется в другом процессе")
            return 0
        print(
            f"okno: задание хранения выполнено: запросов по отзыву согласия зарегистрировано"
            f" {summary.withdrawals_registered}, исполнено {summary.requests_executed},"
            f" полей с истёкшим сроком уничтожено {summary.fields_destroyed},"
            f" диалогов со старыми сообщениями {summary.conversations_aged},"
            f" актов составлено {summary.acts_made}, удалено старых актов {summary.acts_purged}"
        )
        if summary.failures:
            print(f"okno: не удалось исполнить: {summary.failures}", file=sys.stderr)
            return 3
        return 0

    return _run(work)


def cmd_destruction_reapply(_: argparse.Namespace) -> int:

    async def work() -> int:
        destruction.load_erasers()
        result = await restore.reapply()
        print(
            f"okno: журнал уничтожений прочитан (записей: {result.checked}); уничтожено"
            f" повторно: {len(result.acts)}"
            + (f", акты № {', '.join(str(n) for n in result.acts)}" if result.acts else "")
        )
        backup.finish()  # the server may start again
        return 0

    return _run(work)


def cmd_backup(args: argparse.Namespace) -> int:
    folder = asyncio.run(backup.backup(Path(args.into)))
    print(f"okno: резервная копия сохранена в {folder}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    done = asyncio.run(backup.restore(Path(args.backup)))
    print(
        f"okno: восстановлено из {done.backup}; актов из заменённой базы добавлено в журнал"
        f" уничтожений: {done.acts_taken}; вложений удалено: {done.attachments_removed},"
        f" возвращено: {done.attachments_written}"
        + (
            f"; журнал обработки вернулся к моменту копии, его якорей отложено:"
            f" {done.anchors_set_aside}"
            if done.anchors_set_aside
            else ""
        )
    )
    _migrate()  # the schema of this version, and the server role's grants again
    return cmd_destruction_reapply(args)


def _stop(sig: int, _frame: object) -> None:
    """SIGTERM, SIGHUP or SIGQUIT outside the server: end the command as Ctrl-C would, so the
    embedded database is stopped on the way out."""
    raise KeyboardInterrupt


def parser() -> argparse.ArgumentParser:

    root = argparse.ArgumentParser(prog="okno", description="okno: чат с клиентами по 152-ФЗ")
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="применить миграции и запустить сервер")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, help="число процессов (по умолчанию OKNO_WORKERS)")
    serve.set_defaults(handler=cmd_serve)

    commands.add_parser("migrate", help="применить миграции").set_defaults(handler=cmd_migrate)
    commands.add_parser(
        "check", help="проверить настройку и подключения перед запуском, ничего не меняя"
    ).set_defaults(handler=cmd_check, own_database=True)

    user = commands.add_parser("user", help="учётные записи сотрудников")
    users = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    add = users.add_parser("add", help="добавить (пароль из OKNO_PASSWORD или с клавиатуры)")
    add.add_argument("login")
    add.add_argument("--role", required=True, choices=[role.value for role in Role])
    add.add_argument("--name", help="имя для консоли")
    add.add_argument(
        "--team", help="команда оператора (по умолчанию — команда по умолчанию, «Поддержка»)"
    )
    add.add_argument(
        "--max-chats", type=int, help="диалогов одновременно (по умолчанию 5)", metavar="N"
    )
    add.set_defaults(handler=cmd_user_add)
    users.add_parser("list", help="список").set_defaults(handler=cmd_user_list)
    disable = users.add_parser("disable", help="отключить и завершить сеансы")
    disable.add_argument("login")
    disable.set_defaults(handler=cmd_user_disable)
    reset = users.add_parser("reset-password", help="задать новый пароль")
    reset.add_argument("login")
    reset.set_defaults(handler=cmd_user_reset_password)

    log = commands.add_parser("log", help="журнал обработки ПДн")
    logs = log.add_subparsers(dest="log_command", required=True, metavar="ACTION")
    logs.add_parser("verify", help="проверить цепочку хэшей").set_defaults(handler=cmd_log_verify)

    saving = commands.add_parser(
        "backup", help="резервная копия: база данных, вложения, манифест с контрольными суммами"
    )
    saving.add_argument("into", help="папка для резервных копий (копия — новая папка в ней)")
    saving.set_defaults(handler=cmd_backup)
    loading = commands.add_parser(
        "restore",
        help="восстановить из резервной копии и повторить уничтожения, сделанные после неё",
    )
    loading.add_argument("backup", help="папка резервной копии (с manifest.json)")
    loading.set_defaults(handler=cmd_restore)

    again = commands.add_parser("destruction", help="уничтожение ПДн")
    agains = again.add_subparsers(dest="destruction_command", required=True, metavar="ACTION")
    agains.add_parser(
        "reapply", help="после восстановления из резервной копии повторить уничтожения"
    ).set_defaults(handler=cmd_destruction_reapply)

    retention = commands.add_parser("retention", help="сроки хранения ПДн")
    retentions = retention.add_subparsers(dest="retention_command", required=True, metavar="ACTION")
    retentions.add_parser(
        "run", help="уничтожить ПДн с истёкшим сроком, исполнить наступившие уничтожения"
    ).set_defaults(handler=cmd_retention_run)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        get_settings()
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):  # serve takes them over
            signal.signal(sig, _stop)
        server = None if getattr(args, "own_database", False) else _use_database()
        try:
            return args.handler(args)
        finally:
            del server
    except SettingsError as error:
        print(f"okno: неверная настройка {error}", file=sys.stderr)
        return 2
    except (CommandError, StaffError, WeakPasswordError, MigrationError, BackupError) as error:
        print(f"okno: {error}", file=sys.stderr)
        return 1
    except (OSError, asyncpg.PostgresError) as error:
        print(f"okno: база данных недоступна ({type(error).__name__}: {error})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("okno: прервано", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
