"""The API tokens page (admin): tokens for integrations, created, shown once, revoked."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_400_BAD_REQUEST

from okno.admin.controllers.teams import actor_of
from okno.platform.apitokens import service as apitokens
from okno.platform.apitokens.service import CreatedToken
from okno.platform.errors import Refused
from okno.platform.staff.roles import Role
from okno.platform.web.access import current_staff, staff


class ApiTokensConsole(Controller):
    path = "/admin/api-tokens"
    guards = (staff(Role.ADMIN),)
    include_in_schema = False

    async def _page(
        self, request: Request, *, created: CreatedToken | None = None, error: str | None = None
    ) -> Template:
        return Template(
            "admin/api_tokens.html",
            context={
                "user": await current_staff(request),
                "tokens": await apitokens.tokens(),
                "purposes": await apitokens.purposes(),
                "areas": [
                    (area, apitokens.AREA_LABELS[area], area in apitokens.WRITABLE)
                    for area in apitokens.Area
                ],
                "max_days": apitokens.MAX_DAYS,
                "created": created,
                "error": error,
            },
            status_code=HTTP_400_BAD_REQUEST if error else HTTP_200_OK,
            # The one page that shows a token: never kept by a browser or a proxy.
            headers={"cache-control": "no-store"},
        )

    @get("/")
    async def index(self, request: Request) -> Template:
        return await self._page(request)

    @post("/", status_code=HTTP_200_OK)
    async def create(self, request: Request) -> Template:
        """Create a token and show its secret, this once (the answer is the page itself)."""
        form = await request.form()
        days = str(form.get("days", ""))
        try:
            created = await apitokens.create(
                await actor_of(request),
                str(form.get("name", "")),
                str(form.get("purpose", "")),
                [str(scope) for scope in form.getall("scope", [])],
                int(days) if days.isdigit() and len(days) < 6 else 0,
            )
        except Refused as refused:
            return await self._page(request, error=f"Не удалось создать токен: {refused.message}.")
        return await self._page(request, created=created)

    @post("/{token_id:int}/revoke")
    async def revoke(self, request: Request, token_id: FromPath[int]) -> Template | Redirect:
        try:
            await apitokens.revoke(await actor_of(request), token_id)
        except Refused as refused:
            return await self._page(request, error=f"Не удалось отозвать: {refused.message}.")
        return Redirect("/admin/api-tokens", status_code=303)
