"""Consent documents and purposes (admin, DPO), and the proof of consent (DPO, admin)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from okno.platform.consent import console, documents, proof
from okno.platform.staff.roles import Role
from okno.platform.subjects.fields import FIELDS
from okno.platform.web.access import current_staff, staff
from okno.platform.web.csv_export import rows_to_csv
from okno.platform.web.timefmt import MOSCOW


class ContentsForm(msgspec.Struct):
    operator_name: str = ""
    operator_address: str = ""
    purpose_text: str = ""
    pd_list: str = ""
    actions_text: str = ""
    processor: str = ""
    term_text: str = ""
    withdrawal_text: str = ""
    body: str = ""


class PurposeForm(msgspec.Struct):
    name: str = ""
    retention_days: str = ""
    fields: list[str] | str = msgspec.field(default_factory=list)


REQUIRED = (
    "operator_name",
    "operator_address",
    "purpose_text",
    "pd_list",
    "actions_text",
    "term_text",
    "withdrawal_text",
)


class ConsentConsole(Controller):
    path = "/admin/consent"
    guards = (staff(Role.ADMIN, Role.DPO),)
    include_in_schema = False

    @get("/")
    async def overview(self, request: Request) -> Template:
        found = await console.overview()
        return Template(
            "admin/consent.html",
            context={
                "user": await current_staff(request),
                "documents": found.documents,
                "purposes": found.purposes,
                "active": found.in_force,
                "fields": FIELDS,
            },
        )

    @get("/documents/{slug:str}")
    async def edit(self, request: Request, slug: FromPath[str]) -> Template:
        """The next version's form, filled with the current one."""
        current = await documents.current(slug)
        if current is None:
            raise NotFoundException("нет такого документа")
        return Template(
            "admin/consent_document.html",
            context={
                "user": await current_staff(request),
                "doc": current,
                "values": msgspec.structs.asdict(current.contents),
                "history": await documents.history(slug),
            },
        )

    @post("/documents/{slug:str}")
    async def publish(
        self, request: Request, slug: FromPath[str], data: URLEncodedBody[ContentsForm]
    ) -> Template | Redirect:
        """Publish a new version; it is immutable from then on."""
        user = await current_staff(request)
        assert user is not None
        missing = [name for name in REQUIRED if not getattr(data, name).strip()]
        too_long = [
            name for name in ContentsForm.__struct_fields__ if len(getattr(data, name)) > 5000
        ]
        if missing or too_long:
            current = await documents.current(slug)
            if current is None:
                raise NotFoundException("нет такого документа")
            return Template(
                "admin/consent_document.html",
                context={
                    "user": user,
                    "doc": current,
                    "values": msgspec.structs.asdict(data),
                    "history": await documents.history(slug),
                    "error": "Заполните все обязательные поля (до 5000 знаков каждое).",
                },
                status_code=400,
            )
        contents = documents.Contents(
            **{k: v.strip() for k, v in msgspec.structs.asdict(data).items()}
        )
        version = await documents.publish(slug, contents, user.id)
        return Redirect(version.stable_url, status_code=303)

    @post("/purposes/{code:str}")
    async def update_purpose(
        self, code: FromPath[str], data: URLEncodedBody[PurposeForm]
    ) -> Redirect:
        """Change a purpose's name, allowed fields and retention term."""
        chosen = [data.fields] if isinstance(data.fields, str) else list(data.fields)
        updated = await console.update_purpose(code, data.name, chosen, data.retention_days)
        if not updated:
            raise NotFoundException("нет такой цели")
        return Redirect("/admin/consent", status_code=303)


class ConsentProof(Controller):
    path = "/admin/consent/proof"
    guards = (staff(Role.DPO, Role.ADMIN),)
    tags = ("consent proof",)

    @get("/")
    async def export(
        self,
        request: Request,
        subject: FromQuery[uuid.UUID | None] = None,
        since: FromQuery[date | None] = None,
        until: FromQuery[date | None] = None,
        format: FromQuery[str] = "json",
    ) -> Response[Any]:
        """Consent events with their proof, for one subject or a period (CSV or JSON)."""
        if format not in ("json", "csv"):
            raise ClientException("format: json или csv")
        if subject is None and since is None and until is None:
            raise ClientException("укажите субъекта (subject) или период (since, until)")
        start = datetime.combine(since or date(2000, 1, 1), time.min, MOSCOW)
        end = datetime.combine(until or date(2999, 1, 1), time.min, MOSCOW) + timedelta(days=1)
        user = await current_staff(request)
        assert user is not None
        records = await proof.events(user.id, subject, start, end)
        name = f"okno-consent-proof-{date.today().isoformat()}"
        if format == "json":
            return Response(
                {"events": records},
                headers={"content-disposition": f'attachment; filename="{name}.json"'},
            )
        body = rows_to_csv(proof.COLUMNS, (record.cells() for record in records))
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{name}.csv"'},
        )
