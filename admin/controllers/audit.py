"""The staff audit log page (admin): who changed which setting, team, topic or account."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.params import Parameter
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
        entity: str = "",
        actor: str = Parameter(default="", max_length=80),
        before: int | None = Parameter(default=None, ge=1),
    ) -> Template:
        chosen = audit.Entity(entity) if entity in audit.Entity else None
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
