"""Teams and topics (направления) in the console (admin): who gets which chats."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from litestar import Controller, Request, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST

from okno.admin.forms import MemberForm, NameForm, TopicForm
from okno.platform.audit.service import Actor
from okno.platform.staff import accounts
from okno.platform.staff.errors import StaffError
from okno.platform.staff.roles import ROLE_LABELS, Role
from okno.platform.teams import service as teams
from okno.platform.web.access import current_staff, staff
from okno.platform.web.forms import submitted


async def actor_of(request: Request) -> Actor:
    user = await current_staff(request)
    assert user is not None  # the guard admitted a signed-in account
    return Actor(user.id, user.login)


def _number(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise teams.TeamsError("выберите значение из списка") from None


ADMIN_ONLY = [staff(Role.ADMIN)]
# A supervisor sees the teams and changes the members of their own ones (the service checks).
TEAM_LEADS = [staff(Role.ADMIN, Role.SUPERVISOR)]


class TeamsConsole(Controller):
    path = "/admin/teams"
    include_in_schema = False

    async def _list(self, request: Request, error: str | None = None) -> Template:
        return Template(
            "admin/teams.html",
            context={
                "user": await current_staff(request),
                "teams": await teams.list_teams(),
                "accounts": {a.id: a for a in await accounts.list_accounts()},
                "error": error,
            },
            status_code=HTTP_400_BAD_REQUEST if error else 200,
        )

    async def _team(self, request: Request, team_id: int, error: str | None = None) -> Template:
        team = await teams.get_team(team_id)
        everyone = await accounts.list_accounts()
        return Template(
            "admin/team.html",
            context={
                "user": await current_staff(request),
                "manages": await teams.manages(await actor_of(request), team_id),
                "team": team,
                "members": [a for a in everyone if a.id in team.member_ids],
                "candidates": [
                    a
                    for a in everyone
                    if a.id not in team.member_ids
                    and a.role in teams.MEMBER_ROLES
                    and a.disabled_at is None
                ],
                "topics": [t for t in await teams.list_topics() if t.team_id == team_id],
                "role_labels": ROLE_LABELS,
                "error": error,
            },
            status_code=HTTP_400_BAD_REQUEST if error else 200,
        )

    @get("/", guards=TEAM_LEADS)
    async def index(self, request: Request) -> Template:
        return await self._list(request)

    @post("/", guards=ADMIN_ONLY)
    async def create(self, request: Request, data: URLEncodedBody[NameForm]) -> Template | Redirect:
        try:
            team_id = await teams.create_team(await actor_of(request), data.name)
        except teams.TeamsError as problem:
            return await self._list(request, f"Не удалось создать команду: {problem}.")
        return Redirect(f"/admin/teams/{team_id}", status_code=303)

    @get("/{team_id:int}", guards=TEAM_LEADS)
    async def team(self, request: Request, team_id: FromPath[int]) -> Template:
        try:
            return await self._team(request, team_id)
        except teams.TeamsError as problem:
            return await self._list(request, f"{problem}.")

    async def _change(
        self, request: Request, team_id: int, change: Callable[[], Awaitable[None]]
    ) -> Template | Redirect:
        async def again(refused: str) -> Template:
            # The team's page says why; the list does when the team itself is what is refused.
            try:
                return await self._team(request, team_id, f"Не удалось: {refused}.")
            except teams.TeamsError:
                return await self._list(request, f"Не удалось: {refused}.")

        return await submitted(
            change, f"/admin/teams/{team_id}", again, (teams.TeamsError, StaffError)
        )

    @post("/{team_id:int}/rename", guards=ADMIN_ONLY)
    async def rename(
        self, request: Request, team_id: FromPath[int], data: URLEncodedBody[NameForm]
    ) -> Template | Redirect:
        actor = await actor_of(request)
        return await self._change(
            request, team_id, lambda: teams.rename_team(actor, team_id, data.name)
        )

    @post("/{team_id:int}/archive", guards=ADMIN_ONLY)
    async def archive(self, request: Request, team_id: FromPath[int]) -> Template | Redirect:
        actor = await actor_of(request)
        return await self._change(request, team_id, lambda: teams.archive_team(actor, team_id))

    @post("/{team_id:int}/restore", guards=ADMIN_ONLY)
    async def restore(self, request: Request, team_id: FromPath[int]) -> Template | Redirect:
        actor = await actor_of(request)
        return await self._change(request, team_id, lambda: teams.restore_team(actor, team_id))

    @post("/{team_id:int}/default", guards=ADMIN_ONLY)
    async def default(self, request: Request, team_id: FromPath[int]) -> Template | Redirect:
        actor = await actor_of(request)
        return await self._change(request, team_id, lambda: teams.make_default(actor, team_id))

    @post("/{team_id:int}/members", guards=TEAM_LEADS)
    async def add_member(
        self, request: Request, team_id: FromPath[int], data: URLEncodedBody[MemberForm]
    ) -> Template | Redirect:
        actor = await actor_of(request)
        return await self._change(
            request, team_id, lambda: teams.add_member(actor, team_id, _number(data.staff_id))
        )

    @post("/{team_id:int}/members/{staff_id:int}/remove", guards=TEAM_LEADS)
    async def remove_member(
        self, request: Request, team_id: FromPath[int], staff_id: FromPath[int]
    ) -> Template | Redirect:
        actor = await actor_of(request)
        return await self._change(
            request, team_id, lambda: teams.remove_member(actor, team_id, staff_id)
        )


class TopicsConsole(Controller):
    path = "/admin/topics"
    guards = (staff(Role.ADMIN),)
    include_in_schema = False

    async def _page(self, request: Request, error: str | None = None) -> Template:
        return Template(
            "admin/topics.html",
            context={
                "user": await current_staff(request),
                "topics": await teams.list_topics(),
                "teams": [t for t in await teams.list_teams() if t.archived_at is None],
                "team_names": {t.id: t.name for t in await teams.list_teams()},
                "assignments": list(teams.Assignment),
                "error": error,
            },
            status_code=HTTP_400_BAD_REQUEST if error else 200,
        )

    async def _change(
        self, request: Request, change: Callable[[], Awaitable[object]]
    ) -> Template | Redirect:
        return await submitted(
            change,
            "/admin/topics",
            lambda refused: self._page(request, f"Не удалось: {refused}."),
            teams.TeamsError,
        )

    @get("/")
    async def index(self, request: Request) -> Template:
        return await self._page(request)

    @staticmethod
    def _form(data: TopicForm) -> teams.TopicForm:
        return teams.TopicForm(data.title, _number(data.team_id), data.assignment)

    @post("/")
    async def create(
        self, request: Request, data: URLEncodedBody[TopicForm]
    ) -> Template | Redirect:
        actor = await actor_of(request)
        return await self._change(
            request, lambda: teams.create_topic(actor, data.slug, self._form(data))
        )

    @post("/{topic_id:int}/edit")
    async def edit(
        self, request: Request, topic_id: FromPath[int], data: URLEncodedBody[TopicForm]
    ) -> Template | Redirect:
        actor = await actor_of(request)
        return await self._change(
            request, lambda: teams.update_topic(actor, topic_id, self._form(data))
        )

    @post("/{topic_id:int}/up")
    async def up(self, request: Request, topic_id: FromPath[int]) -> Template | Redirect:
        actor = await actor_of(request)
        return await self._change(request, lambda: teams.move_topic(actor, topic_id, -1))

    @post("/{topic_id:int}/down")
    async def down(self, request: Request, topic_id: FromPath[int]) -> Template | Redirect:
        actor = await actor_of(request)
        return await self._change(request, lambda: teams.move_topic(actor, topic_id, 1))

    @post("/{topic_id:int}/archive")
    async def archive(self, request: Request, topic_id: FromPath[int]) -> Template | Redirect:
        actor = await actor_of(request)
        return await self._change(request, lambda: teams.set_topic_active(actor, topic_id, False))

    @post("/{topic_id:int}/restore")
    async def restore(self, request: Request, topic_id: FromPath[int]) -> Template | Redirect:
        actor = await actor_of(request)
        return await self._change(request, lambda: teams.set_topic_active(actor, topic_id, True))
