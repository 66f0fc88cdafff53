"""The unsubscribe link in every advertising letter: one confirmation, then the consent is gone.

The link's signed key names the mailing and the subject; it shows nothing about them.
"""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Template

from okno.platform.mailings import unsubscribe
from okno.platform.web.access import PUBLIC


class UnsubscribePages(Controller):
    path = "/unsubscribe"
    include_in_schema = False

    @get("/{token:str}", opt=PUBLIC)
    async def confirm(self, token: FromPath[str]) -> Template:
        """Asks before withdrawing (mail scanners open links; only the button withdraws)."""
        subscribed = await unsubscribe.check_link(token[:200])
        return Template(
            "portal/unsubscribe.html",
            context={"token": token[:200], "subscribed": subscribed, "done": False},
        )

    @post("/{token:str}", opt=PUBLIC)
    async def unsubscribe(self, request: Request, token: FromPath[str]) -> Template:
        await unsubscribe.by_link(
            token[:200],
            request.client.host if request.client else None,
            request.headers.get("user-agent"),
        )
        return Template(
            "portal/unsubscribe.html",
            context={"token": token[:200], "subscribed": False, "done": True},
            status_code=200,
        )
