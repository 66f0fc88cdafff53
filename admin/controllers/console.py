"""The console's home page and staff-account management (admin)."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST

from okno.admin.forms import NewStaffForm
from okno.platform.staff import passwords
from okno.platform.staff import service as staff_service
from okno.platform.staff.roles import ROLE_LABELS, Role
from okno.platform.web.access import ANY_STAFF, current_staff, staff


class ConsoleController(Controller):
    path = "/admin"
    include_in_schema = False

    @get("/", guards=[staff(*ANY_STAFF)])
    async def home(self, request: Request) -> Template:
        user = await current_staff(request)
        return Template("admin/home.html", context={"user": user, "role_labels": ROLE_LABELS})


class StaffAccountsController(Controller):
    path = "/admin/staff"
    guards = (staff(Role.ADMIN),)
    include_in_schema = False

    async def _page(
        self, request: Request, error: str | None = None, status: int = 200
    ) -> Template:
        return Template(
            "admin/staff.html",
            context={
                "user": await current_staff(request),
                "accounts": await staff_service.list_users(),
                "roles": list(Role),
                "role_labels": ROLE_LABELS,
                "error": error,
            },
            status_code=status,
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
            await staff_service.create_user(
                data.login.strip().lower(), role, data.password, data.display_name.strip() or None
            )
        except (staff_service.StaffError, passwords.WeakPasswordError) as problem:
            return await self._page(
                request, f"Не удалось добавить: {problem}.", HTTP_400_BAD_REQUEST
            )
        return Redirect("/admin/staff", status_code=303)

    @post("/{login:str}/disable")
    async def disable(self, request: Request, login: FromPath[str]) -> Template | Redirect:
        user = await current_staff(request)
        if user is not None and user.login == login:
            return await self._page(request, "Нельзя отключить собственную учётную запись.", 400)
        try:
            await staff_service.disable_user(login)
        except staff_service.StaffError as problem:
            return await self._page(request, str(problem), HTTP_400_BAD_REQUEST)
        return Redirect("/admin/staff", status_code=303)
