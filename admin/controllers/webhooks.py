"""Webhook endpoints in the console (admin): register, see failures, pause, resume, remove."""

from __future__ import annotations

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST

from okno.admin.controllers.teams import actor_of
from okno.platform.staff.roles import Role
from okno.platform.web.access import current_staff, staff
from okno.platform.webhooks import service as webhooks
from okno.platform.webhooks.events import EVENTS


class EndpointForm(msgspec.Struct):
    url: str = ""
    events: list[str] | str = msgspec.field(default_factory=list)
    pd_scope: str = "ids"


class WebhooksConsole(Controller):
    path = "/admin/webhooks"
    guards = (staff(Role.ADMIN),)
    include_in_schema = False

    async def _list(
        self, request: Request, *, error: str | None = None, created: object = None
    ) -> Template:
        return Template(
            "admin/webhooks.html",
            context={
                "user": await current_staff(request),
                "endpoints": await webhooks.endpoints(),
                "events": EVENTS,
                "scopes": webhooks.SCOPES,
                "error": error,
                "created": created,
            },
            status_code=HTTP_400_BAD_REQUEST if error else 200,
        )

    @get("/")
    async def index(self, request: Request) -> Template:
        return await self._list(request)

    @post("/")
    async def create(self, request: Request, data: URLEncodedBody[EndpointForm]) -> Template:
        """The secret is in this answer only: the page shows it once, never again."""
        chosen = [data.events] if isinstance(data.events, str) else list(data.events)
        try:
            created = await webhooks.create(
                await actor_of(request), data.url[:2100], chosen, data.pd_scope
            )
        except webhooks.WebhookError as refused:
            return await self._list(request, error=refused.message)
        return await self._list(request, created=created)

    @get("/{endpoint_id:int}")
    async def show(self, request: Request, endpoint_id: FromPath[int]) -> Template:
        return Template(
            "admin/webhook.html",
            context={
                "user": await current_staff(request),
                "endpoint": await webhooks.endpoint(endpoint_id),
                "events": EVENTS,
                "scopes": webhooks.SCOPES,
            },
        )

    @post("/{endpoint_id:int}/pause")
    async def pause(self, request: Request, endpoint_id: FromPath[int]) -> Redirect:
        await webhooks.pause(await actor_of(request), endpoint_id)
        return Redirect(f"/admin/webhooks/{endpoint_id}", status_code=303)

    @post("/{endpoint_id:int}/resume")
    async def resume(self, request: Request, endpoint_id: FromPath[int]) -> Redirect:
        await webhooks.resume(await actor_of(request), endpoint_id)
        return Redirect(f"/admin/webhooks/{endpoint_id}", status_code=303)

    @post("/{endpoint_id:int}/remove")
    async def remove(self, request: Request, endpoint_id: FromPath[int]) -> Redirect:
        await webhooks.remove(await actor_of(request), endpoint_id)
        return Redirect("/admin/webhooks/", status_code=303)
