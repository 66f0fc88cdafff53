"""The DPO's queue of messages marked as special-category data (okno.platform.chat.special)."""

from __future__ import annotations

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from okno.platform.chat import special
from okno.platform.staff.roles import Role
from okno.platform.web.access import current_staff, staff


class KeepForm(msgspec.Struct):
    written_consent: str = ""


class SpecialCategories(Controller):
    path = "/admin/dpo/special"
    guards = (staff(Role.DPO),)
    include_in_schema = False

    @get("/")
    async def queue(self, request: Request) -> Template:
        """Marked messages awaiting a decision, without their content."""
        return Template(
            "admin/dpo_special.html",
            context={
                "user": await current_staff(request),
                "pending": await special.pending(),
                "item": None,
            },
        )

    @get("/{conversation_id:int}/{seq:int}")
    async def show(
        self, request: Request, conversation_id: FromPath[int], seq: FromPath[int]
    ) -> Template:
        """One marked message's content, for the decision (the view is logged)."""
        user = await current_staff(request)
        assert user is not None
        item = await special.reveal(user, conversation_id, seq)
        return Template(
            "admin/dpo_special.html", context={"user": user, "pending": [], "item": item}
        )

    @post("/{conversation_id:int}/{seq:int}/destroy")
    async def destroy(
        self, request: Request, conversation_id: FromPath[int], seq: FromPath[int]
    ) -> Redirect:
        user = await current_staff(request)
        assert user is not None
        await special.destroy(user, conversation_id, seq)
        return Redirect("/admin/dpo/special", status_code=303)

    @post("/{conversation_id:int}/{seq:int}/keep")
    async def keep(
        self,
        request: Request,
        conversation_id: FromPath[int],
        seq: FromPath[int],
        data: URLEncodedBody[KeepForm],
    ) -> Redirect:
        user = await current_staff(request)
        assert user is not None
        await special.keep(user, conversation_id, seq, data.written_consent[:400])
        return Redirect("/admin/dpo/special", status_code=303)
