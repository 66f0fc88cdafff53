"""Messenger channels in the console (admin): connect a MAX bot or a VK community, choose its
topic, see its health. Tokens and secrets go in once and are never shown again."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST

from okno.admin.controllers.teams import actor_of
from okno.admin.forms import ChannelConnectForm
from okno.platform.channels import service as channels
from okno.platform.channels.schemas import ChannelForm
from okno.platform.errors import Refused
from okno.platform.mailings.sending import base_url
from okno.platform.staff.roles import Role
from okno.platform.teams import service as teams
from okno.platform.web.access import current_staff, staff
from okno.platform.web.forms import submitted

ADMIN_ONLY = [staff(Role.ADMIN)]


class ChannelsConsole(Controller):
    path = "/admin/channels"
    include_in_schema = False

    async def _page(self, request: Request, error: str | None = None) -> Template:
        return Template(
            "admin/channels.html",
            context={
                "user": await current_staff(request),
                "channels": await channels.health(),
                "topics": await teams.list_topics(),
                "kinds": channels.KIND_LABELS,
                "modes": channels.RECEIVE_MODES,
                "operators": channels.OPERATORS,
                "public_url": base_url(),
                "error": error,
            },
            status_code=HTTP_400_BAD_REQUEST if error else 200,
        )

    @get("/", guards=ADMIN_ONLY)
    async def index(self, request: Request) -> Template:
        return await self._page(request)

    @post("/", guards=ADMIN_ONLY)
    async def connect(
        self, request: Request, data: URLEncodedBody[ChannelConnectForm]
    ) -> Template | Redirect:
        actor = await actor_of(request)

        async def change() -> None:
            topic = int(data.topic) if data.topic.isdigit() else None
            form = ChannelForm(
                kind=data.kind,
                name=data.name,
                topic=topic,
                receive=data.receive,
                api_url=data.api_url,
                token=data.token,
                group_id=data.group_id,
                webhook_secret=data.webhook_secret,
                confirmation=data.confirmation,
            )
            await channels.connect(actor, form)

        async def again(refused: str) -> Template:
            return await self._page(request, f"Не удалось подключить канал: {refused}.")

        return await submitted(change, "/admin/channels", again, Refused)

    @post("/{channel_id:int}/disable", guards=ADMIN_ONLY)
    async def disable(self, request: Request, channel_id: FromPath[int]) -> Template | Redirect:
        actor = await actor_of(request)

        async def again(refused: str) -> Template:
            return await self._page(request, f"Не удалось: {refused}.")

        return await submitted(
            lambda: channels.disable(actor, channel_id), "/admin/channels", again, Refused
        )
