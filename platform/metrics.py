"""This worker's counters and gauges, and their Prometheus text exposition for ``GET /metrics``.

Hand-written rather than prometheus_client: the exposition format is a few lines of text, and
okno needs no more than counters, gauges and sums; prometheus_client's mode for several worker
processes would add a shared folder of memory-mapped files to clean at every start. What the
database knows (the queue, due mailings, the pool) is read when scraped, so it is the same
whichever worker answers; what a worker counts itself is that worker's (docs/deploy.md).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable

Labels = tuple[tuple[str, str], ...]


class Metric:
    """One metric family: its values by label set."""

    kind = "untyped"

    def __init__(self, name: str, help_text: str) -> None:
        self.name, self.help = name, help_text
        self.values: dict[Labels, float] = {}
        REGISTRY.append(self)

    def samples(self) -> Iterable[tuple[str, Labels, float]]:
        for labels, value in self.values.items():
            yield self.name, labels, value


class Counter(Metric):
    kind = "counter"

    def inc(self, amount: float = 1, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        self.values[key] = self.values.get(key, 0) + amount


class Gauge(Metric):
    kind = "gauge"

    def add(self, amount: float, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        self.values[key] = self.values.get(key, 0) + amount

    def set(self, value: float, **labels: str) -> None:
        self.values[tuple(sorted(labels.items()))] = value


class Summary(Metric):
    """A sum and a count (no quantiles): rate(sum) / rate(count) is the mean over a window."""

    kind = "summary"

    def __init__(self, name: str, help_text: str) -> None:
        super().__init__(name, help_text)
        self.count: dict[Labels, float] = {}

    def observe(self, value: float, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        self.values[key] = self.values.get(key, 0) + value
        self.count[key] = self.count.get(key, 0) + 1

    def samples(self) -> Iterable[tuple[str, Labels, float]]:
        for labels, total in self.values.items():
            yield f"{self.name}_sum", labels, total
            yield f"{self.name}_count", labels, self.count[labels]


REGISTRY: list[Metric] = []

SOCKETS_OPEN = Gauge("okno_websockets_open", "Open WebSockets of this worker, by kind.")
FRAMES = Counter(
    "okno_websocket_frames_total", "WebSocket frames this worker read (in) and wrote (out)."
)
MESSAGES_STORED = Counter(
    "okno_messages_stored_total",
    "Chat messages stored by every host (PostgreSQL's row statistics; reset with them).",
)
MESSAGES_DELIVERED = Counter(
    "okno_messages_delivered_total", "Message frames this worker queued to subscribed sockets."
)
DELIVERY_LAG = Summary(
    "okno_delivery_lag_seconds",
    "From a message's commit time (the database's clock) to its fan-out by this worker.",
)
JOB_RUNS = Counter("okno_job_runs_total", "Background job rounds, by job and outcome.")
ERRORS = Counter(
    "okno_errors_total", "Unexpected server errors (HTTP 500, failed socket frames), by where."
)
QUEUE_WAITING = Gauge("okno_queue_conversations", "Conversations waiting for an operator.")
QUEUE_OLDEST_WAIT = Gauge(
    "okno_queue_oldest_wait_seconds", "How long the longest-waiting conversation has waited."
)
MAILINGS_DUE = Gauge("okno_mailing_deliveries_due", "Mailing deliveries due and not yet sent.")
POOL = Gauge("okno_db_pool_connections", "This worker's database pool, by state.")
POOL_MAX = Gauge("okno_db_pool_max_connections", "The most connections this worker's pool opens.")
UP = Gauge("okno_database_up", "1 when the database answered this scrape's queries.")
WORKER = Gauge("okno_worker_info", "The worker process that answered this scrape.")


def _label_text(labels: Labels) -> str:
    if not labels:
        return ""
    escaped = (f'{key}="{value.translate(_ESCAPES)}"' for key, value in labels)
    return "{" + ",".join(escaped) + "}"


_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n"})


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    return repr(int(value)) if float(value).is_integer() else repr(float(value))


def exposition() -> str:
    """Every metric in Prometheus' text format 0.0.4."""
    WORKER.values = {(("pid", str(os.getpid())),): 1}
    lines: list[str] = []
    for metric in REGISTRY:
        lines.append(f"# HELP {metric.name} {metric.help}")
        lines.append(f"# TYPE {metric.name} {metric.kind}")
        for name, labels, value in metric.samples():
            lines.append(f"{name}{_label_text(labels)} {_number(value)}")
    return "\n".join(lines) + "\n"
