"""Public pages of the policy and consent texts, each version at a stable address, and the
receipts a client keeps of what they agreed to."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from okno.platform.consent import documents, receipts
from okno.platform.web.access import PUBLIC, visitor_guard


def _page(found: documents.WithHistory) -> Template:
    if found.version is None:
        raise NotFoundException("нет такого документа или редакции")
    return Template(
        "portal/document.html", context={"doc": found.version, "history": found.history}
    )


class DocumentPages(Controller):
    include_in_schema = False

    @get("/policy", opt=PUBLIC)
    async def policy(self) -> Template:
        """The current PD-processing policy."""
        return _page(await documents.with_history("policy"))

    @get("/consents/{slug:str}", opt=PUBLIC)
    async def current(self, slug: FromPath[str]) -> Template:
        return _page(await documents.with_history(slug))

    @get("/consents/{slug:str}/{version:str}", opt=PUBLIC)
    async def version(self, slug: FromPath[str], version: FromPath[str]) -> Template:
        """One published version (``v1``, ``v2``…), exactly as agreed to; it never changes."""
        number = version[1:] if version.startswith("v") else ""
        if not number.isdigit() or len(number) > 6:
            raise NotFoundException("нет такой редакции")
        return _page(await documents.with_history(slug, int(number)))

    @get("/chat/consents/{event_id:int}", guards=[visitor_guard])
    async def receipt(self, request: Request, event_id: FromPath[int]) -> Template:
        """A consent receipt for the client who gave it (and nobody else)."""
        return receipt_page(await receipts.receipt(request.state.visitor.subject_id, event_id))


def receipt_page(found: dict[str, object] | None) -> Template:
    """The receipt, or 404 when it is not the asker's (the same answer as for none at all)."""
    if found is None:
        raise NotFoundException("нет такой квитанции")
    return Template("portal/receipt.html", context=found)
