"""The operator console page; its data come over /ws/staff and /api/staff."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.response import Template

from okno.platform.chat import console
from okno.platform.chat.scope import CHAT_ROLES
from okno.platform.settings import get_settings
from okno.platform.web.access import current_staff, staff


class ChatsConsole(Controller):
    path = "/admin/chats"
    guards = (staff(*CHAT_ROLES),)
    include_in_schema = False

    @get("/")
    async def console(self, request: Request) -> Template:
        settings = get_settings()
        return Template(
            "admin/chats.html",
            context={
                "user": await current_staff(request),
                "max_upload_bytes": settings.max_upload_bytes,
                "edit_window_seconds": settings.edit_window_seconds,
                "choices": await console.filter_choices(),
            },
        )
