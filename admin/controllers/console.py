"""The console's home page and staff-account management (admin)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from litestar import Controller, Request, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST

from okno.admin.controllers.teams import actor_of
from okno.admin.forms import NewStaffForm, ProfileForm, RoleForm
from okno.platform.audit.service import Actor
from okno.platform.staff import accounts
from okno.platform.staff.errors import StaffError
from okno.platform.staff.passwords import WeakPasswordError
from okno.platform.staff.roles import ROLE_LABELS, Role
from okno.platform.staff.schemas import Profile
from okno.platform.teams import service as teams
from okno.platform.web.access import ANY_STAFF, current_staff, staff
from okno.platform.web.forms import submitted
from okno.platform.webhooks import service as webhooks


class ConsoleController(Controller):
    path = "/admin"
    include_in_schema = False

    @get("/", guards=[staff(*ANY_STAFF)])
    async def home(self, request: Request) -> Template:
        user = await current_staff(request)
        # An admin is told here when the delivery worker paused an endpoint that kept failing.
        paused = await webhooks.paused_by_failures() if user and user.role == Role.ADMIN else 0
        return Template(
            "admin/home.html",
            context={"user": user, "role_labels": ROLE_LABELS, "paused_webhooks": paused},
        )


class StaffAccountsController(Controller):
    path = "/admin/staff"
    guards = (staff(Role.ADMIN),)
    include_in_schema = False

    async def _page(
        self, request: Request, error: str | None = None, status: int = 200
    ) -> Template:
        all_teams = await teams.list_teams()
        return Template(
            "admin/staff.html",
            context={
                "user": await current_staff(request),
                "accounts": await accounts.list_accounts(),
                "roles": list(Role),
                "role_labels": ROLE_LABELS,
                "teams": [t for t in all_teams if t.archived_at is None],
                "team_names": _team_names(all_teams),
                "default_max_chats": accounts.DEFAULT_MAX_CHATS,
                "error": error,
            },
            status_code=status,
        )

    async def _account(
        self,
        request: Request,
        login: str,
        error: str | None = None,
        one_time_password: str | None = None,
    ) -> Template:
        account = await accounts.get_account(login)
        all_teams = await teams.list_teams()
        return Template(
            "admin/account.html",
            context={
                "user": await current_staff(request),
                "account": account,
                "member_of": [t for t in all_teams if account.id in t.member_ids],
                "roles": list(Role),
                "role_labels": ROLE_LABELS,
                "error": error,
                "one_time_password": one_time_password,
            },
            status_code=HTTP_400_BAD_REQUEST if error else 200,
        )

    @get("/")
    async def accounts(self, request: Request) -> Template:
        return await self._page(request)

    @post("/")
    async def add(
        self, request: Request, data: URLEncodedBody[NewStaffForm]
    ) -> Template | Redirect:
        try:
            role = Role(data.role)
        except ValueError:
            return await self._page(request, "Выберите роль из списка.", HTTP_400_BAD_REQUEST)
        try:
            max_chats = int(data.max_chats) if data.max_chats.strip() else None
            team = int(data.team) if data.team.strip() else None
        except ValueError:
            return await self._page(
                request, "Не удалось добавить: укажите число диалогов цифрами.", 400
            )
        actor = await actor_of(request)
        return await submitted(
            lambda: accounts.create_user(
                data.login.strip().lower(),
                role,
                data.password,
                data.display_name.strip() or None,
                team=team if role in teams.MEMBER_ROLES else None,
                max_chats=max_chats,
                actor=actor,
            ),
            "/admin/staff",
            lambda refused: self._page(
                request, f"Не удалось добавить: {refused}.", HTTP_400_BAD_REQUEST
            ),
            (StaffError, WeakPasswordError),
        )

    @get("/{login:str}")
    async def account(self, request: Request, login: FromPath[str]) -> Template:
        try:
            return await self._account(request, login)
        except StaffError as problem:
            return await self._page(request, f"{problem}.", HTTP_400_BAD_REQUEST)

    async def _refused(self, request: Request, login: str, refused: str) -> Template:
        """The account's page says why a change was refused; the list does when the account
        itself is not there."""
        try:
            return await self._account(request, login, f"Не удалось: {refused}.")
        except StaffError:
            return await self._page(request, f"{refused}.", HTTP_400_BAD_REQUEST)

    async def _change(
        self, request: Request, login: str, change: Callable[[Actor], Awaitable[None]]
    ) -> Template | Redirect:
        actor = await actor_of(request)
        return await submitted(
            lambda: change(actor),
            f"/admin/staff/{login}",
            lambda refused: self._refused(request, login, refused),
            StaffError,
        )

    @post("/{login:str}/profile")
    async def profile(
        self, request: Request, login: FromPath[str], data: URLEncodedBody[ProfileForm]
    ) -> Template | Redirect:
        async def change(actor: Actor) -> None:
            try:
                max_chats = int(data.max_chats)
            except ValueError:
                raise StaffError("укажите число диалогов цифрами") from None
            profile = Profile(data.display_name, data.pseudonym, max_chats)
            await accounts.update_profile(actor, login, profile)

        return await self._change(request, login, change)

    @post("/{login:str}/role")
    async def role(
        self, request: Request, login: FromPath[str], data: URLEncodedBody[RoleForm]
    ) -> Template | Redirect:
        async def change(actor: Actor) -> None:
            if data.role not in {r.value for r in Role}:
                raise StaffError("выберите роль из списка")
            await accounts.set_role(actor, login, Role(data.role))

        return await self._change(request, login, change)

    @post("/{login:str}/password")
    async def reset_password(self, request: Request, login: FromPath[str]) -> Template:
        """A one-time password, shown on this response only; it must be changed at sign-in."""
        try:
            password = await accounts.reset_password(await actor_of(request), login)
        except StaffError as problem:
            return await self._refused(request, login, problem.message)
        response = await self._account(request, login, one_time_password=password)
        response.headers["cache-control"] = "no-store"
        return response

    @post("/{login:str}/unlock")
    async def unlock(self, request: Request, login: FromPath[str]) -> Template | Redirect:
        return await self._change(request, login, lambda a: accounts.unlock(a, login))

    @post("/{login:str}/enable")
    async def enable(self, request: Request, login: FromPath[str]) -> Template | Redirect:
        return await self._change(request, login, lambda a: accounts.enable_user(a, login))

    @post("/{login:str}/disable")
    async def disable(self, request: Request, login: FromPath[str]) -> Template | Redirect:
        user = await current_staff(request)
        if user is not None and user.login == login:
            return await self._page(request, "Нельзя отключить собственную учётную запись.", 400)

        async def change(actor: Actor) -> None:
            await accounts.disable_user(login, actor)

        return await self._change(request, login, change)


def _team_names(all_teams: list[teams.TeamInfo]) -> dict[int, list[str]]:
    """Each staff id with the names of the teams it belongs to."""
    names: dict[int, list[str]] = {}
    for team in all_teams:
        for member in team.member_ids:
            names.setdefault(member, []).append(team.name)
    return names
