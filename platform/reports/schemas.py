"""What the reports and the monitor hand to the pages: aggregates and ids, no client's data."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

import msgspec

from okno.platform.reports.sla import OpenBreach

# Where conversations come from: the web chat, or a messenger channel's kind (channel.kind).
CHANNELS = {"web": "веб-чат", "max": "MAX", "vk": "ВКонтакте"}
DIMENSIONS = {
    "team": "команда",
    "topic": "направление",
    "operator": "оператор",
    "channel": "канал",
}
Dimension = Literal["team", "topic", "operator", "channel"]


class Filters(msgspec.Struct, frozen=True):
    start: date
    end: date  # included
    team_id: int | None = None
    topic_id: int | None = None
    staff_id: int | None = None
    channel: str | None = None
    dimension: Dimension = "team"


class Figures(msgspec.Struct, frozen=True):
    """The metrics of docs/reports.md for one group (or the total); durations in seconds."""

    created: int = 0
    resolved: int = 0
    reopened: int = 0
    missed: int = 0
    assigned: int = 0
    responses: int = 0
    first_response_avg: float | None = None
    response_avg: float | None = None
    response_p90: float | None = None
    resolution_avg: float | None = None
    queue_avg: float | None = None
    queue_p90: float | None = None
    first_response_breaches: int = 0
    resolution_breaches: int = 0


class Day(msgspec.Struct, frozen=True):
    day: date
    created: int = 0
    resolved: int = 0


class Csat(msgspec.Struct, frozen=True):
    distribution: list[int]  # ratings of 1..5 stars
    comments: int
    resolved: int

    @property
    def ratings(self) -> int:
        return sum(self.distribution)

    @property
    def average(self) -> float | None:
        if not self.ratings:
            return None
        return sum(n * stars for stars, n in enumerate(self.distribution, 1)) / self.ratings

    @property
    def response_rate(self) -> float | None:
        """Ratings per resolved conversation of the period."""
        return self.ratings / self.resolved if self.resolved else None


class Occupancy(msgspec.Struct, frozen=True):
    """One staff member's presence over the period, in seconds (docs/reports.md)."""

    staff_id: int
    online_seconds: float
    away_seconds: float
    handling_seconds: float  # online with at least one chat held
    chat_seconds: float  # each held chat's own online time, added up

    @property
    def occupancy(self) -> float | None:
        """Handling time ÷ online time."""
        return self.handling_seconds / self.online_seconds if self.online_seconds else None

    @property
    def load(self) -> float | None:
        """How many chats were held at once, on average, while online."""
        return self.chat_seconds / self.online_seconds if self.online_seconds else None


class Comment(msgspec.Struct, frozen=True):
    """A client's comment to a rating: their text, shown only on request, and logged."""

    conversation_id: int
    rating: int
    at: datetime
    body: str


class Missed(msgspec.Struct, frozen=True):
    conversation_id: int
    at: datetime
    seconds: float | None


class Report(msgspec.Struct, frozen=True):
    filters: Filters
    total: Figures
    groups: list[tuple[str | None, Figures]]
    operators: list[tuple[str | None, Figures]]  # each operator's load, whatever the grouping
    days: list[Day]
    heat: list[list[int]]  # weekday (Monday first) × hour, new conversations
    csat: Csat
    missed: list[Missed]
    occupancy: list[Occupancy]


class Names(msgspec.Struct, frozen=True):
    teams: dict[int, str]
    topics: dict[int, str]
    staff: dict[int, str]

    def of(self, dimension: str, key: str | None) -> str:
        if key is None:
            return "без команды" if dimension == "team" else "—"
        if dimension == "channel":
            return CHANNELS.get(key, key)
        table = {"team": self.teams, "topic": self.topics, "operator": self.staff}[dimension]
        return table.get(int(key), "—")


class MonitorStaff(msgspec.Struct, frozen=True):
    id: int
    name: str
    presence: str  # online, away, offline
    chats: int
    capacity: int
    over_sla: int


class QueueLine(msgspec.Struct, frozen=True):
    team_id: int | None
    topic_id: int | None
    waiting: int
    longest_seconds: int


class Monitor(msgspec.Struct, frozen=True):
    at: datetime
    staff: list[MonitorStaff]
    queues: list[QueueLine]
    breaches: list[OpenBreach]
