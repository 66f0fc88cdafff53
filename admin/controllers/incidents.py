"""The leak register in the DPO console: record, count the deadlines, write the notices."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
from litestar import Controller, Request, get, post
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from okno.platform.incidents import service as incidents
from okno.platform.incidents.schemas import IncidentIn
from okno.platform.staff.roles import Role
from okno.platform.subjects.fields import FIELDS
from okno.platform.web.access import current_staff, staff
from okno.platform.web.timefmt import MOSCOW


class IncidentForm(msgspec.Struct):
    detected_at: str = ""
    summary: str = ""
    causes: str = ""
    harm: str = ""
    measures: str = ""
    contact_person: str = ""
    fields: list[str] | str = msgspec.field(default_factory=list)
    conversations: str = ""
    everyone_with_fields: str = ""


class NoticeForm(msgspec.Struct):
    which: str = ""
    investigation: str = ""
    responsible: str = ""


class IncidentsConsole(Controller):
    path = "/admin/incidents"
    guards = (staff(Role.DPO),)
    include_in_schema = False

    @get("/")
    async def index(self, request: Request) -> Template:
        return Template(
            "admin/incidents.html",
            context={
                "user": await current_staff(request),
                "incidents": await incidents.all_incidents(),
                "fields": FIELDS,
                "now": datetime.now(UTC),
            },
        )

    @post("/")
    async def record(self, request: Request, data: URLEncodedBody[IncidentForm]) -> Redirect:
        user = await current_staff(request)
        assert user is not None
        try:
            detected = datetime.fromisoformat(data.detected_at.strip()).replace(tzinfo=MOSCOW)
        except ValueError:
            raise ClientException("время выявления: ГГГГ-ММ-ДДTЧЧ:ММ (московское)") from None
        conversations = [
            part.strip().lstrip("#") for part in data.conversations.replace(",", " ").split()
        ]
        if any(not part.isdigit() for part in conversations):
            raise ClientException("диалоги: номера через пробел или запятую")
        fields = [data.fields] if isinstance(data.fields, str) else list(data.fields)
        incident_id = await incidents.record(
            user.id,
            IncidentIn(
                detected_at=detected,
                summary=data.summary[:5000],
                causes=data.causes[:5000],
                harm=data.harm[:5000],
                measures=data.measures[:5000],
                contact_person=data.contact_person[:500],
                fields=tuple(fields),
                conversations=tuple(int(c) for c in conversations),
                everyone_with_fields=data.everyone_with_fields == "on",
            ),
        )
        return Redirect(f"/admin/incidents/{incident_id}", status_code=303)

    @get("/{incident_id:int}")
    async def show(self, request: Request, incident_id: FromPath[int]) -> Template:
        incident = await incidents.get(incident_id)
        if incident is None:
            raise NotFoundException("нет такого инцидента")
        return Template(
            "admin/incident.html",
            context={
                "user": await current_staff(request),
                "incident": incident,
                "first_notice": incidents.first_notice(incident),
                "second_notice": incidents.second_notice(incident),
                "now": datetime.now(UTC),
                "fields": FIELDS,
            },
        )

    @post("/{incident_id:int}/notices")
    async def notice_sent(
        self, incident_id: FromPath[int], data: URLEncodedBody[NoticeForm]
    ) -> Redirect:
        if data.which not in ("first", "second"):
            raise ClientException("which: first или second")
        if await incidents.get(incident_id) is None:
            raise NotFoundException("нет такого инцидента")
        await incidents.mark_notice(
            incident_id, data.which, data.investigation[:5000], data.responsible[:2000]
        )
        return Redirect(f"/admin/incidents/{incident_id}", status_code=303)
