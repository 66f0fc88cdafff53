"""Public pages of the policy and consent texts, each version at a stable address, and the
receipts a client keeps of what they agreed to."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from okno.platform import database
from okno.platform.consent import documents
from okno.platform.settings import get_settings
from okno.platform.subjects.fields import FIELDS
from okno.platform.web.access import PUBLIC, visitor_guard


def _page(version: documents.Version | None, history: list[documents.Version]) -> Template:
    if version is None:
        raise NotFoundException("нет такого документа или редакции")
    return Template("portal/document.html", context={"doc": version, "history": history})


class DocumentPages(Controller):
    include_in_schema = False

    @get("/policy", opt=PUBLIC)
    async def policy(self) -> Template:
        """The current PD-processing policy."""
        return _page(await documents.current("policy"), await documents.history("policy"))

    @get("/consents/{slug:str}", opt=PUBLIC)
    async def current(self, slug: FromPath[str]) -> Template:
        return _page(await documents.current(slug), await documents.history(slug))

    @get("/consents/{slug:str}/{version:str}", opt=PUBLIC)
    async def version(self, slug: FromPath[str], version: FromPath[str]) -> Template:
        """One published version (``v1``, ``v2``…), exactly as agreed to; it never changes."""
        number = version[1:] if version.startswith("v") else ""
        if not number.isdigit() or len(number) > 6:
            raise NotFoundException("нет такой редакции")
        return _page(await documents.get(slug, int(number)), await documents.history(slug))

    @get("/chat/consents/{event_id:int}", guards=[visitor_guard])
    async def receipt(self, request: Request, event_id: FromPath[int]) -> Template:
        """A consent receipt for the client who gave it (and nobody else)."""
        return Template(
            "portal/receipt.html", context=await receipt(request.state.visitor.subject_id, event_id)
        )


async def receipt(subject_id: object, event_id: int) -> dict[str, object]:
    """The receipt's contents, in the spirit of ISO/IEC 27560 (Kantara consent receipts)."""
    async with database.acquire() as conn:
        event = await conn.fetchrow(
            "SELECT e.id, e.kind, e.at, e.channel, e.control, e.document_sha256, e.version,"
            " d.slug, d.title, p.name AS purpose, p.fields, p.legal_basis, p.retention_days,"
            " (SELECT at FROM consent_event w WHERE w.given_id = e.id) AS withdrawn_at"
            " FROM consent_event e JOIN consent_document d ON d.id = e.document_id"
            " JOIN purpose p ON p.code = e.purpose_code WHERE e.id = $1 AND e.subject_id = $2",
            event_id,
            subject_id,
        )
    if event is None:
        raise NotFoundException("нет такой квитанции")
    settings = get_settings()
    return {
        "event": event,
        "operator_name": settings.operator_name,
        "operator_address": settings.operator_address,
        "fields": [FIELDS[name].label for name in event["fields"]],
    }
