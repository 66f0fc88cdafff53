"""The staff audit log page (admin): who changed which setting, team, topic or account."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get
from litestar.params import FromQuery, QueryParameter
from litestar.response import Template

from okno.platform.audit import service as audit
from okno.platform.staff.roles import Role
from okno.platform.web.access import current_staff, staff


class AuditConsole(Controller):
    path = "/admin/audit"
    guards = (staff(Role.ADMIN),)
    include_in_schema = False

    @get("/")
    async def index(
        self,
        request: Request,
        entity: FromQuery[str] = "",
        actor: Annotated[str, QueryParameter(max_length=80)] = "",
        before: Annotated[int | None, QueryParameter(ge=1)] = None,
    ) -> Template:
        # "str in StrEnum" raises TypeError on Python 3.11: compare with the values.
        chosen = audit.Entity(entity) if entity in {e.value for e in audit.Entity} else None
        entries = await audit.search(chosen, actor.strip(), before)
        return Template(
            "admin/audit.html",
            context={
                "user": await current_staff(request),
                "entries": entries,
                "entities": list(audit.Entity),
                "entity": chosen,
                "actor": actor.strip(),
                "next_before": entries[-1].id if len(entries) == audit.PAGE else None,
            },
        )
