"""«Чат и виджет» (admin) and «Часы работы» (admin; a supervisor for their own teams)."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST

from okno.platform import clock
from okno.platform.audit.service import Actor
from okno.platform.chatsettings import service as chatsettings
from okno.platform.hours import service as hours
from okno.platform.settings import get_settings
from okno.platform.staff.roles import Role
from okno.platform.staff.schemas import StaffUser
from okno.platform.teams import service as teams_service
from okno.platform.web.access import current_staff, staff
from okno.platform.web.forms import submitted


def _actor(user: StaffUser | None) -> Actor:
    assert user is not None  # the guard admitted a signed-in member of staff
    return Actor(id=user.id, login=user.login)


class ChatSettingsConsole(Controller):
    path = "/admin/settings/chat"
    guards = (staff(Role.ADMIN),)
    include_in_schema = False

    async def _page(
        self,
        request: Request,
        form: chatsettings.SettingsForm | None = None,
        error: str | None = None,
        status: int = 200,
    ) -> Template:
        effective = await chatsettings.current()
        stored = await chatsettings.stored()
        if form is None:
            form = chatsettings.SettingsForm(
                title=stored.title,
                greeting=stored.greeting,
                accent=stored.accent,
                launcher=stored.launcher,
                widget_origins="\n".join(stored.widget_origins),
                prechat_form="on" if stored.prechat_form else "",
            )
        base = (get_settings().public_url or str(request.base_url)).rstrip("/")
        return Template(
            "admin/chat_settings.html",
            context={
                "user": await current_staff(request),
                "form": form,
                "effective": effective,
                "launchers": chatsettings.LAUNCHER_LABELS,
                "base": base,
                "https": base.startswith("https://"),
                "error": error,
                "saved": request.query_params.get("saved") == "1",
            },
            status_code=status,
        )

    @get("/")
    async def show(self, request: Request) -> Template:
        return await self._page(request)

    @post("/")
    async def save(
        self, request: Request, data: URLEncodedBody[chatsettings.SettingsForm]
    ) -> Template | Redirect:
        actor = _actor(await current_staff(request))
        return await submitted(
            lambda: chatsettings.save(actor, data),
            "/admin/settings/chat?saved=1",
            lambda refused: self._page(
                request, data, f"Не сохранено: {refused}.", HTTP_400_BAD_REQUEST
            ),
            chatsettings.ChatSettingsError,
        )


class HoursConsole(Controller):
    path = "/admin/hours"
    guards = (staff(Role.ADMIN, Role.SUPERVISOR),)
    include_in_schema = False

    async def _editable(self, user: StaffUser | None) -> list[hours.Schedule]:
        """Every team for an admin; a supervisor's own teams."""
        assert user is not None
        every = list((await hours.schedules()).values())
        if user.role == Role.ADMIN:
            return every
        # A supervisor edits the hours of the teams they belong to.
        mine = await teams_service.teams_of(user.id)
        return [schedule for schedule in every if schedule.team_id in mine]

    async def _page(
        self,
        request: Request,
        error: str | None = None,
        failed: tuple[int, hours.HoursForm] | None = None,
        status: int = 200,
    ) -> Template:
        user = await current_staff(request)
        now = clock.now()
        teams = [
            {
                "schedule": schedule,
                "form": failed[1]
                if failed and failed[0] == schedule.team_id
                else _form_of(schedule),
                "open": schedule.is_open(now),
                "opening": None if schedule.is_open(now) else schedule.opening_text(now),
                "error": error if failed and failed[0] == schedule.team_id else None,
            }
            for schedule in await self._editable(user)
        ]
        return Template(
            "admin/hours.html",
            context={
                "user": user,
                "teams": teams,
                "zones": hours.ZONES,
                "days": list(zip(hours.DAYS, hours.DAY_LABELS, strict=True)),
                "saved": request.query_params.get("saved"),
            },
            status_code=status,
        )

    @get("/")
    async def show(self, request: Request) -> Template:
        return await self._page(request)

    @post("/{team_id:int}")
    async def save(
        self, request: Request, team_id: FromPath[int], data: URLEncodedBody[hours.HoursForm]
    ) -> Template | Redirect:
        user = await current_staff(request)
        if team_id not in {s.team_id for s in await self._editable(user)}:
            # As with conversations: a team that is not yours is not shown to be there.
            raise NotFoundException("нет такой команды или её часы меняет администратор")
        return await submitted(
            lambda: hours.save(_actor(user), team_id, data),
            f"/admin/hours?saved={team_id}#team-{team_id}",
            lambda refused: self._page(
                request, f"Не сохранено: {refused}.", (team_id, data), HTTP_400_BAD_REQUEST
            ),
            hours.HoursError,
        )


def _form_of(schedule: hours.Schedule) -> hours.HoursForm:
    values: dict[str, str] = {
        "always_open": "on" if schedule.always_open else "",
        "time_zone": schedule.time_zone,
        "production_calendar": "on" if schedule.production_calendar else "",
    }
    for key, day in zip(hours.DAYS, schedule.week, strict=True):
        values[f"{key}_opens"], values[f"{key}_closes"] = day or ("", "")
    if schedule.always_open:
        # What the form offers when an admin unticks «круглосуточно»: a working week.
        for key in hours.DAYS[:5]:
            values[f"{key}_opens"], values[f"{key}_closes"] = "09:00", "18:00"
    return hours.HoursForm(**values)
