"""«Отчёты», «Монитор» and «Цели SLA» (supervisors and admins).

The report and the monitor show aggregates only: opening them is no access to anyone's
personal data. The conversations they list are numbers linking to the console, where opening
one is an access and is logged (docs/reports.md). The one exception is «Показать комментарии»,
a form that shows the clients' comments to their ratings, each one logged by the service; the
comments are never in a CSV (a file leaves the log's sight: who reads it later is unknown).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Response, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST

from okno.admin import charts
from okno.platform.audit.service import Actor
from okno.platform.reports import service as reports
from okno.platform.reports import sla
from okno.platform.reports.schemas import (
    CHANNELS,
    DIMENSIONS,
    Comment,
    Figures,
    Filters,
    Names,
    Report,
)
from okno.platform.staff.roles import Role
from okno.platform.web.access import current_staff, staff
from okno.platform.web.csv_export import rows_to_csv
from okno.platform.web.forms import submitted

SUPERVISORS = (Role.SUPERVISOR, Role.ADMIN)
FIGURE_COLUMNS = (
    ("created", "Новые", False),
    ("resolved", "Решены", False),
    ("reopened", "Открыты снова", False),
    ("missed", "Пропущены", False),
    ("first_response_avg", "Первый ответ, среднее", True),
    ("response_avg", "Ответ, среднее", True),
    ("response_p90", "Ответ, 90-й перцентиль", True),
    ("resolution_avg", "Решение, среднее", True),
    ("queue_avg", "Ожидание в очереди, среднее", True),
    ("queue_p90", "Ожидание в очереди, 90-й перцентиль", True),
    ("assigned", "Назначено", False),
    ("responses", "Ответов", False),
    ("first_response_breaches", "Первый ответ позже цели SLA", False),
    ("resolution_breaches", "Решение позже цели SLA", False),
)
OCCUPANCY_COLUMNS = (
    "Оператор",
    "В сети",
    "Отошёл",
    "В сети с диалогами",
    "Занятость, %",
    "Нагрузка, диалогов одновременно",
)
TABLES = ("groups", "operators", "occupancy", "days", "heat", "csat")


class Table(msgspec.Struct, frozen=True):
    """A report table: its rows as raw values (seconds for durations), for the page and CSV."""

    key: str
    title: str
    header: list[str]
    rows: list[list[Any]]
    durations: frozenset[int] = frozenset()


def duration(seconds: float | None) -> str:
    """«1 ч 05 мин», «3 мин 20 с», «45 с»; a dash when there is nothing to measure."""
    if seconds is None:
        return "—"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} ч {minutes:02d} мин"
    if minutes:
        return f"{minutes} мин {secs:02d} с"
    return f"{secs} с"


def _figure_row(name: str, figures: Figures) -> list[Any]:
    return [name, *(getattr(figures, field) for field, _, _ in FIGURE_COLUMNS)]


def _figure_table(key: str, title: str, first: str, rows: list[list[Any]]) -> Table:
    durations = frozenset(n + 1 for n, column in enumerate(FIGURE_COLUMNS) if column[2])
    header = [first, *(label for _, label, _ in FIGURE_COLUMNS)]
    return Table(key, title, header, rows, durations)


def _share(value: float | None, scale: float = 1, digits: int = 1) -> float | str:
    """A ratio for a table cell; a dash when nobody was online to measure it."""
    return "—" if value is None else round(value * scale, digits)


def tables(report: Report, names: Names) -> dict[str, Table]:
    dimension = report.filters.dimension
    groups = [_figure_row(names.of(dimension, key), f) for key, f in report.groups]
    groups.append(_figure_row("Итого", report.total))
    operators = [_figure_row(names.of("operator", key), f) for key, f in report.operators]
    csat = report.csat
    return {
        "groups": _figure_table(
            "groups", f"По измерению «{DIMENSIONS[dimension]}»", DIMENSIONS[dimension], groups
        ),
        "operators": _figure_table("operators", "Нагрузка операторов", "Оператор", operators),
        "occupancy": Table(
            "occupancy",
            "Занятость операторов",
            list(OCCUPANCY_COLUMNS),
            [
                [
                    names.of("operator", str(o.staff_id)),
                    o.online_seconds,
                    o.away_seconds,
                    o.handling_seconds,
                    _share(o.occupancy, 100),
                    _share(o.load, digits=2),
                ]
                for o in report.occupancy
            ],
            frozenset({1, 2, 3}),
        ),
        "days": Table(
            "days",
            "Новые и решённые по дням",
            ["День", "Новые", "Решены"],
            [[d.day.strftime("%d.%m.%Y"), d.created, d.resolved] for d in report.days],
        ),
        "heat": Table(
            "heat",
            "Новые диалоги по дням недели и часам (МСК)",
            ["День недели", *(f"{h}:00" for h in range(24))],
            [[charts.WEEKDAYS[n], *row] for n, row in enumerate(report.heat)],
        ),
        "csat": Table(
            "csat",
            "Оценки клиентов",
            ["Оценка", "Число оценок"],
            [[f"{stars} из 5", n] for stars, n in enumerate(csat.distribution, 1)],
        ),
    }


def chart_of(report: Report, names: Names) -> dict[str, Any]:
    """The SVG of each table that has one."""
    dimension = report.filters.dimension
    return {
        "days": charts.columns(
            "Новые и решённые диалоги по дням",
            [d.day.strftime("%d.%m") for d in report.days],
            [
                ("Новые", [d.created for d in report.days]),
                ("Решены", [d.resolved for d in report.days]),
            ],
        ),
        "groups": charts.bars(
            f"Первый ответ, среднее, в минутах: по измерению «{DIMENSIONS[dimension]}»",
            [
                (names.of(dimension, key), (f.first_response_avg or 0) / 60)
                for key, f in report.groups
            ],
            " мин",
        ),
        "operators": charts.bars(
            "Назначено диалогов каждому оператору",
            [(names.of("operator", key), f.assigned) for key, f in report.operators],
        ),
        "occupancy": charts.bars(
            "Занятость: доля времени в сети с диалогами, %",
            [
                (names.of("operator", str(o.staff_id)), round((o.occupancy or 0) * 100, 1))
                for o in report.occupancy
            ],
            " %",
        ),
        "heat": charts.heat_map("Когда приходят новые диалоги", report.heat),
        "csat": charts.bars(
            "Распределение оценок",
            [(f"{stars} ★", n) for stars, n in enumerate(report.csat.distribution, 1)],
        ),
    }


class ReportQuery(msgspec.Struct, frozen=True):
    start: date | None = None
    end: date | None = None
    team: int | None = None
    topic: int | None = None
    operator: int | None = None
    channel: str | None = None
    by: str = "team"

    def filters(self) -> Filters:
        first, last = reports.default_days()
        if self.by not in DIMENSIONS:
            raise reports.ReportError("нет такого измерения")
        if self.channel and self.channel not in CHANNELS:
            raise reports.ReportError("нет такого канала")
        return msgspec.convert(
            {
                "start": self.start or first,
                "end": self.end or last,
                "team_id": self.team,
                "topic_id": self.topic,
                "staff_id": self.operator,
                "channel": self.channel or None,
                "dimension": self.by,
            },
            Filters,
        )


class CommentsForm(msgspec.Struct):
    """The report's filters, sent again by «Показать комментарии»."""

    start: str = ""
    end: str = ""
    team: str = ""
    topic: str = ""
    operator: str = ""
    channel: str = ""
    by: str = ""


def _query(request: Request) -> ReportQuery:
    return _parsed(request.query_params)


def _parsed(values: Mapping[str, str]) -> ReportQuery:
    params = {k: v for k, v in values.items() if v != "" and k in ReportQuery.__struct_fields__}
    try:
        return msgspec.convert(params, ReportQuery, strict=False)
    except msgspec.ValidationError:
        raise reports.ReportError("даты — ГГГГ-ММ-ДД, фильтры — из списков на странице") from None


def _query_string(filters: Filters) -> str:
    """The filters as the page's own address says them, for its CSV links (a POST has none)."""
    values = {
        "start": filters.start,
        "end": filters.end,
        "team": filters.team_id,
        "topic": filters.topic_id,
        "operator": filters.staff_id,
        "channel": filters.channel,
        "by": filters.dimension,
    }
    return urlencode({k: v for k, v in values.items() if v is not None})


class ReportsConsole(Controller):
    path = "/admin/reports"
    guards = (staff(*SUPERVISORS),)
    include_in_schema = False

    @get("/")
    async def show(self, request: Request) -> Template:
        return await self._page(request, _query(request).filters())

    @post("/comments")
    async def comments(self, request: Request, data: URLEncodedBody[CommentsForm]) -> Template:
        """The clients' comments to the period's ratings: personal data, logged per comment."""
        user = await current_staff(request)
        assert user is not None  # the guard admitted a signed-in supervisor or admin
        filters = _parsed(msgspec.structs.asdict(data)).filters()
        shown = await reports.comments(user.id, filters)
        return await self._page(request, filters, shown)

    async def _page(
        self, request: Request, filters: Filters, comments: list[Comment] | None = None
    ) -> Template:
        report = await reports.report(filters)
        names = await reports.names()
        return Template(
            "admin/reports.html",
            context={
                "comments": comments,
                "user": await current_staff(request),
                "filters": filters,
                "report": report,
                "names": names,
                "tables": tables(report, names),
                "charts": chart_of(report, names),
                "dimensions": DIMENSIONS,
                "channels": CHANNELS,
                "duration": duration,
                "query": _query_string(filters),
            },
        )

    @get("/csv")
    async def csv(
        self, request: Request, table: Annotated[str, QueryParameter(max_length=20)]
    ) -> Response[bytes]:
        if table not in TABLES:
            raise reports.ReportError("нет такой таблицы")
        filters = _query(request).filters()
        chosen = tables(await reports.report(filters), await reports.names())[table]
        name = f"okno-{table}-{filters.start}-{filters.end}"
        return Response(
            rows_to_csv(chosen.header, chosen.rows),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{name}.csv"'},
        )


class MonitorConsole(Controller):
    path = "/admin/monitor"
    guards = (staff(*SUPERVISORS),)
    include_in_schema = False

    async def _context(self) -> dict[str, Any]:
        return {
            "monitor": await reports.monitor(),
            "names": await reports.names(),
            "duration": duration,
            "presence": {"online": "в сети", "away": "отошёл", "offline": "не в сети"},
            "breach": {"first_response": "первый ответ", "resolution": "решение"},
        }

    @get("/")
    async def show(self, request: Request) -> Template:
        context = await self._context()
        return Template(
            "admin/monitor.html", context={"user": await current_staff(request), **context}
        )

    @get("/live")
    async def live(self) -> Template:
        """The monitor's figures alone, which the page's script fetches every few seconds."""
        return Template("admin/monitor_live.html", context=await self._context())


class SlaForm(msgspec.Struct):
    first_response_minutes: str = ""
    resolution_minutes: str = ""


class SlaConsole(Controller):
    path = "/admin/sla"
    guards = (staff(Role.ADMIN),)
    include_in_schema = False

    async def _page(
        self, request: Request, error: tuple[str, int, str] | None = None, status: int = 200
    ) -> Template:
        return Template(
            "admin/sla.html",
            context={
                "user": await current_staff(request),
                "rows": await sla.page_rows(),
                "error": error,
                "saved": request.query_params.get("saved"),
            },
            status_code=status,
        )

    @get("/")
    async def show(self, request: Request) -> Template:
        return await self._page(request)

    @post("/{kind:str}/{key:int}")
    async def save(
        self,
        request: Request,
        kind: FromPath[str],
        key: FromPath[int],
        data: URLEncodedBody[SlaForm],
    ) -> Template | Redirect:
        user = await current_staff(request)
        assert user is not None  # the guard admitted a signed-in admin
        actor = Actor(id=user.id, login=user.login)
        if kind not in ("team", "topic"):
            raise sla.SlaError("нет такой команды или направления")
        return await submitted(
            lambda: sla.save(
                actor, kind, key, data.first_response_minutes, data.resolution_minutes
            ),
            f"/admin/sla/?saved={kind}-{key}#{kind}-{key}",
            lambda refused: self._page(
                request, (kind, key, f"Не сохранено: {refused}."), HTTP_400_BAD_REQUEST
            ),
            sla.SlaError,
        )
