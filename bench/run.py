"""``make bench``: measure okno and, in the same run, the limits it is compared with.

Prints a table of each result as a ratio to its limit (and to the goal of issue #7), writes
``bench/results/latest.json``, ``latest.png`` and ``latest.md`` (git keeps the history), and with
``--readme`` puts the table into README.md's Performance section.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import baselines, loads, reports
from bench.harness import ROOT, Server, create_staff, database, migrate, temp_dir

RESULTS = ROOT / "bench" / "results"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
GOALS = {
    "throughput_share_of_raw_insert": 0.5,
    "p99_ms_at_fixed_load": 50.0,
    "idle_connections": 10_000,
    "idle_bytes_per_connection": 40 * 1024,
}


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--seconds", type=float, default=10, help="length of each measurement")
    parser.add_argument("--clients", type=int, default=32, help="concurrency at saturation")
    parser.add_argument("--latency-clients", type=int, default=2000, help="connected clients")
    parser.add_argument("--rate", type=float, default=500, help="offered messages a second")
    parser.add_argument("--idle", type=int, default=10_000, help="idle connections to hold")
    parser.add_argument("--operators", type=int, default=4, help="operator consoles")
    parser.add_argument("--workers", default="1,2", help="worker counts to run, e.g. 1,2")
    parser.add_argument(
        "--ws-backlog",
        type=int,
        default=4096,
        help="OKNO_WS_BACKLOG for the server: the load generator shares the CPUs, and a console"
        " it cannot read fast enough is dropped (4008) like any slow reader",
    )
    parser.add_argument(
        "--report-conversations",
        type=int,
        default=100_000,
        help="conversations the lists and reports are measured over (issue #16: 100,000)",
    )
    parser.add_argument(
        "--report-messages",
        type=int,
        default=2_000_000,
        help="messages in them (issue #16: 2,000,000)",
    )
    parser.add_argument(
        "--only-reports",
        action="store_true",
        help="measure only the lists and reports (a few minutes; with smaller sizes, less)",
    )
    parser.add_argument("--readme", action="store_true", help="update README.md's table")
    return parser.parse_args(argv)


def machine(database_version: str) -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = 0
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) * 1024
    commit = ""
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "postgresql": database_version,
        "commit": commit,
    }


async def postgres_version(url: str) -> str:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return " ".join((await conn.fetchval("SELECT version()")).split()[:2])
    finally:
        await conn.close()


def step(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


async def measure(url: str, data_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"settings": vars(args).copy(), "okno": {}}
    results["settings"].pop("readme")
    if not args.only_reports:
        await measure_messages(url, data_dir, args, results)
    results["reports"] = await measure_reports(url, data_dir, args)
    return results


async def measure_reports(url: str, data_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    import asyncpg

    operators = await create_staff(url, 9, "operator")
    supervisor = (await create_staff(url, 1))[0]
    conn = await asyncpg.connect(url)
    try:
        ids = [r["id"] for r in await conn.fetch(queries_staff_ids, operators)]
    finally:
        await conn.close()
    step(
        f"lists and reports: loading {args.report_conversations:,} conversations,"
        f" {args.report_messages:,} messages"
    )
    seconds = await reports.load(url, args.report_conversations, args.report_messages, ids)
    server = Server(url, data_dir, 1)
    try:
        step("lists and reports: timing the console's lists and a month's report")
        timings = await reports.measure(server.url, supervisor, operators[0], 30)
    finally:
        server.stop()
    return {
        "conversations": args.report_conversations,
        "messages": args.report_messages,
        "load_seconds": round(seconds, 1),
        "timings_ms": timings,
    }


queries_staff_ids = "SELECT id FROM staff_user WHERE login = ANY($1::text[]) ORDER BY id"


async def measure_messages(
    url: str, data_dir: Path, args: argparse.Namespace, results: dict[str, Any]
) -> None:
    step(f"baseline: raw asyncpg INSERT of the message row, {args.clients} writers")
    results["raw_insert"] = await baselines.raw_insert(url, args.clients, args.seconds)
    step("baseline: okno's message transaction without and with its processing-log rows")
    results["log_cost"] = await baselines.message_transactions(url, args.clients, args.seconds)
    step(f"baseline: bare websockets echo server, {args.clients} sockets")
    results["echo"] = await baselines.echo_round_trips(args.clients, args.seconds)
    step(f"baseline: bare websockets echo server holding {args.idle} idle sockets")
    results["echo_idle"] = await baselines.echo_idle_memory(args.idle)

    logins = await create_staff(url, args.operators)
    saturating: list[Any] = []
    waiting: list[Any] = []
    for workers in [int(w) for w in args.workers.split(",")]:
        server = Server(url, data_dir, workers, OKNO_WS_BACKLOG=str(args.ws_backlog))
        try:
            step(f"okno, {workers} worker(s): connecting clients and operators")
            if not saturating:
                saturating = await loads.visitors(server.url, args.clients, start_conversation=True)
                waiting = await loads.visitors(
                    server.url, args.latency_clients, start_conversation=True
                )
            else:
                await loads.reconnect(server.url, saturating + waiting)
            conversations = [t.conversation for t in saturating + waiting]
            consoles = await loads.operators(server.url, logins, conversations)
            step(f"okno, {workers} worker(s): throughput at saturation")
            run = {"throughput": await loads.throughput(saturating, consoles, args.seconds)}
            step(f"okno, {workers} worker(s): latency at {args.rate:g}/s, {len(waiting)} clients")
            run["latency"] = await loads.latency(waiting, consoles, args.rate, args.seconds)
            # And below saturation, where queueing does not hide what one message costs.
            half = max(run["throughput"]["per_second"] / 2, 1)
            step(f"okno, {workers} worker(s): latency at {half:.0f}/s (half of saturation)")
            run["latency_half"] = await loads.latency(waiting, consoles, half, args.seconds)
            run["consoles_dropped"] = sum(1 for c in consoles if c.close_code is not None)
            results["okno"][str(workers)] = run
            await loads.close_all(consoles + saturating + waiting)
        finally:
            server.stop()

    server = Server(url, data_dir, 1)
    try:
        step(f"okno, 1 worker: holding {args.idle} idle client sockets")
        results["idle"] = await loads.idle_connections(server, args.idle)
    finally:
        server.stop()


# ---------------------------------------------------------------- reporting


def rows(results: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """(measure, okno, limit, ratio, goal) for the table."""
    out = [] if results["settings"]["only_reports"] else message_rows(results)
    return out + report_rows(results["reports"])


REPORT_GOALS_MS = {"list": 100.0, "report": 1000.0}


def report_rows(run: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """The console's lists (goal p95 < 100 ms) and a month's report (goal < 1 s)."""
    out = []
    size = f"{run['conversations']:,} conversations, {run['messages']:,} messages"
    for name, p in run["timings_ms"].items():
        goal = REPORT_GOALS_MS["report" if name.startswith("report") else "list"]
        out.append(
            (
                f"{name} ({size})",
                f"p50 {p['p50']:,.0f} / p95 {p['p95']:,.0f} ms",
                f"goal p95 {goal:,.0f} ms",
                f"{p['p95'] / goal:.2f}",
                f"< 1.00 {'met' if p['p95'] < goal else 'missed'}",
            )
        )
    return out


def message_rows(results: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    raw = results["raw_insert"]["per_second"]
    echo = results["echo"]["per_second"]
    out = [
        ("raw INSERT of the message row (the database's limit)", f"{raw:,.0f}/s", "", "", ""),
        ("bare websockets echo (the transport's limit)", f"{echo:,.0f} round trips/s", "", "", ""),
    ]
    for workers, run in results["okno"].items():
        tp, lat = run["throughput"], run["latency"]
        share = tp["per_second"] / raw
        goal = GOALS["throughput_share_of_raw_insert"]
        out.append(
            (
                f"{workers} worker(s): persisted and delivered, saturation",
                f"{tp['per_second']:,.0f}/s",
                f"{raw:,.0f}/s raw INSERT",
                f"{share:.2f}",
                f"≥ {goal:.2f} {'met' if share >= goal else 'missed'}",
            )
        )
        out.append(
            (
                f"{workers} worker(s): same, against the transport",
                f"{tp['per_second']:,.0f}/s",
                f"{echo:,.0f}/s echo",
                f"{tp['per_second'] / echo:.2f}",
                "",
            )
        )
        p = lat["latency_ms"]
        target = GOALS["p99_ms_at_fixed_load"]
        out.append(
            (
                f"{workers} worker(s): latency at {lat['offered_per_second']:,.0f}/s offered,"
                f" {lat['clients']:,} clients (delivered {lat['delivered']}/{lat['sent']};"
                f" consoles dropped {run['consoles_dropped']})",
                f"p50 {p['p50']:,.0f} / p95 {p['p95']:,.0f} / p99 {p['p99']:,.0f} ms",
                f"goal p99 {target:.0f} ms",
                f"{p['p99'] / target:.2f}",
                f"< 1.00 {'met' if p['p99'] < target else 'missed'}",
            )
        )
    for workers, run in results["okno"].items():
        lat = run["latency_half"]
        p = lat["latency_ms"]
        out.append(
            (
                f"{workers} worker(s): latency at half of saturation,"
                f" {lat['offered_per_second']:,.0f}/s (delivered {lat['delivered']}/{lat['sent']})",
                f"p50 {p['p50']:,.0f} / p95 {p['p95']:,.0f} / p99 {p['p99']:,.0f} ms",
                "goal p99 50 ms",
                f"{p['p99'] / GOALS['p99_ms_at_fixed_load']:.2f}",
                "",
            )
        )
    idle, echo_idle = results["idle"], results["echo_idle"]
    per = idle["bytes_per_connection"]
    limit = GOALS["idle_bytes_per_connection"]
    met = per < limit and idle["held"] >= GOALS["idle_connections"]
    out.append(
        (
            f"1 worker: idle client sockets held (of {idle['connections']:,})",
            f"{idle['held']:,}",
            f"{GOALS['idle_connections']:,} goal",
            f"{idle['held'] / GOALS['idle_connections']:.2f}",
            "",
        )
    )
    out.append(
        (
            "1 worker: memory per idle socket (half deflate, half plain)",
            f"{per / 1024:,.1f} KiB (plain {idle['bytes_per_connection_plain'] / 1024:,.1f},"
            f" deflate {idle['bytes_per_connection_deflate'] / 1024:,.1f})",
            f"{echo_idle['bytes_per_connection'] / 1024:,.1f} KiB bare echo (deflate)",
            f"{per / echo_idle['bytes_per_connection']:.2f}",
            f"< 40 KiB {'met' if met else 'missed'}",
        )
    )
    log = results["log_cost"]
    out.append(
        (
            "message transaction with its processing-log rows",
            f"{log['with_log']:,.0f}/s",
            f"{log['without_log']:,.0f}/s without the log",
            f"{log['with_log'] / log['without_log']:.2f}",
            f"log costs {log['log_cost_ms']:.1f} ms a message",
        )
    )
    return out


def table(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        f"Measured {results['finished'][:16].replace('T', ' ')} UTC on {m['cpu']}, {m['cores']}"
        f" cores, {m['memory_gib']} GiB, {m['os']}, Python {m['python']}, {m['postgresql']}"
        f" (embedded unless DATABASE_URL), commit {m['commit'] or 'unknown'}; server, database"
        " and load generator share the machine.",
        "",
        "| measure | okno | limit (same run) | ratio | goal |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {' | '.join(row)} |" for row in rows(results)]
    s = results["settings"]
    lines += [
        "",
        f"Settings: {s['seconds']:g} s a measurement, {s['clients']} sending clients at"
        f" saturation, {s['operators']} operator consoles, {s['latency_clients']} clients at"
        f" {s['rate']:g} messages/s offered, {s['idle']:,} idle sockets,"
        f" OKNO_WS_BACKLOG={s['ws_backlog']}.",
    ]
    return "\n".join(lines)


def chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    raw = results["raw_insert"]["per_second"]
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    labels, values = [], []
    for workers, run in results["okno"].items():
        labels.append(f"{workers}w throughput\n/ raw INSERT")
        values.append(run["throughput"]["per_second"] / raw)
    log = results["log_cost"]
    labels.append("msg tx with log\n/ without")
    values.append(log["with_log"] / log["without_log"])
    labels.append("idle memory\n/ bare echo")
    values.append(
        results["idle"]["bytes_per_connection"] / results["echo_idle"]["bytes_per_connection"]
    )
    left.bar(labels, values, color="#4a78b5")
    left.axhline(0.5, color="#c0392b", linestyle="--", linewidth=1, label="throughput goal 0.5")
    left.set_title("okno as a ratio to the same run's limits")
    left.legend(fontsize=8)
    left.tick_params(axis="x", labelsize=8)
    names, series = ["p50", "p95", "p99"], []
    for workers, run in results["okno"].items():
        series.append((f"{workers}w saturation", run["throughput"]["latency_ms"]))
        series.append((f"{workers}w fixed load", run["latency"]["latency_ms"]))
        series.append((f"{workers}w half saturation", run["latency_half"]["latency_ms"]))
    width = 0.8 / max(len(series), 1)
    for index, (label, p) in enumerate(series):
        right.bar([i + index * width for i in range(3)], [p[n] for n in names], width, label=label)
    right.axhline(50, color="#c0392b", linestyle="--", linewidth=1, label="p99 goal 50 ms")
    right.set_xticks([i + 0.4 - width / 2 for i in range(3)], names)
    right.set_yscale("log")
    right.set_ylabel("client send → operator receive, ms")
    right.set_title("end-to-end latency")
    right.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def update_readme(text: str) -> None:
    readme = ROOT / "README.md"
    content = readme.read_text()
    if BEGIN not in content or END not in content:
        print("README.md has no bench markers; table not inserted", file=sys.stderr)
        return
    head, rest = content.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}")


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    started = time.monotonic()
    data_dir = temp_dir()
    try:
        with database(data_dir) as url:
            migrate(url, data_dir)
            version = asyncio.run(postgres_version(url))
            results = asyncio.run(measure(url, data_dir, args))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    results["machine"] = machine(version)
    results["finished"] = dt.datetime.now(dt.UTC).isoformat()
    results["duration_seconds"] = round(time.monotonic() - started, 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    # A run of the lists and reports alone keeps its own files: the full run's stay as they are.
    stem = "reports-latest" if args.only_reports else "latest"
    (RESULTS / f"{stem}.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    if not args.only_reports:
        chart(results, RESULTS / "latest.png")
    text = table(results)
    (RESULTS / f"{stem}.md").write_text(text + "\n")
    print()
    print(text)
    print(f"\n{RESULTS / f'{stem}.json'} ({results['duration_seconds']} s)")
    if args.readme and not args.only_reports:
        update_readme(text)
    return 0
