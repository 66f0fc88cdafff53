"""The DPO console: rights requests on the legal clock, blocking, destruction and its acts, the
processing log and the retention job. Thin: every rule lives in okno.platform.rights and
okno.platform.erasure; pages only parse forms, call them and render."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from okno.platform.erasure import acts
from okno.platform.erasure import service as erasure
from okno.platform.errors import NotFound, Refused
from okno.platform.processing_log.actions import ACTION_LABELS, Action
from okno.platform.rights import blocking, handling
from okno.platform.rights import service as rights
from okno.platform.rights.deadlines import RULES, RequestKind
from okno.platform.rights.requests import NEXT, STATUS_LABELS
from okno.platform.rights.schemas import LogFilter, LogRow
from okno.platform.staff.roles import Role
from okno.platform.subjects.fields import FIELDS
from okno.platform.web.access import current_staff, staff
from okno.platform.web.csv_export import rows_to_csv
from okno.platform.web.timefmt import MOSCOW

DPO = staff(Role.DPO)
URGENCY_LABELS = {"overdue": "просрочен", "near": "скоро срок", "ok": "в срок", "closed": "закрыт"}
CHANNEL_LABELS = {"portal": "«Мои данные»", "letter": "письмо", "chat": "чат", "system": "система"}
LOG_COLUMNS = (
    "id",
    "at_utc",
    "at_msk",
    "actor_kind",
    "actor_id",
    "subject_id",
    "action",
    "categories",
    "fields",
    "purpose",
    "legal_basis",
    "request_id",
    "reason",
)


class LetterForm(msgspec.Struct):
    kind: str = ""
    subject: str = ""
    received: str = ""
    full_name: str = ""
    document: str = ""
    relation: str = ""
    address: str = ""
    reference: str = ""
    details: str = ""


class TransitionForm(msgspec.Struct):
    to: str = ""
    note: str = ""
    notice: str = ""
    reason: str = ""


class ReasonForm(msgspec.Struct):
    reason: str = ""


class SubjectForm(msgspec.Struct):
    subject: str = ""


class ExecuteForm(msgspec.Struct):
    confirm: str = ""
    scope: str = "subject"  # subject or fields
    fields: list[str] | str = msgspec.field(default_factory=list)
    reference: str = ""
    field: str = ""
    value: str = ""


class SubjectActionForm(msgspec.Struct):
    confirm: str = ""
    scope: str = "subject"
    fields: list[str] | str = msgspec.field(default_factory=list)
    reason: str = ""
    reference: str = ""


class ConfirmForm(msgspec.Struct):
    confirm: str = ""


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        raise NotFound("нет такого субъекта") from None


def _chosen(form: ExecuteForm | SubjectActionForm) -> tuple[str, ...] | None:
    """The fields the form chose (None: all the subject's); the service checks them."""
    if form.scope != "fields":
        return None
    return (form.fields,) if isinstance(form.fields, str) else tuple(form.fields)


class DpoConsole(Controller):
    path = "/admin/dpo"
    guards = (DPO,)
    include_in_schema = False

    # ------------------------------------------------------------ requests

    @get("/")
    async def queue(
        self, request: Request, sort: FromQuery[str] = "due", show: FromQuery[str] = "open"
    ) -> Template:
        """Every subject request, by deadline (or receipt), coloured by urgency."""
        items = await rights.queue(by_receipt=sort == "received", closed_too=show == "all")
        now = datetime.now(UTC)
        return Template(
            "admin/dpo.html",
            context={
                "user": await current_staff(request),
                "items": items,
                "urgency": {item.id: item.urgency(now) for item in items},
                "urgency_labels": URGENCY_LABELS,
                "statuses": STATUS_LABELS,
                "channels": CHANNEL_LABELS,
                "sort": sort,
                "show": show,
            },
        )

    @get("/requests/new")
    async def new_request(self, request: Request) -> Template:
        """Enter a request that came by letter, with the details Art. 14 p.3 asks for."""
        return Template(
            "admin/dpo_new.html",
            context={"user": await current_staff(request), "rules": RULES, "values": {}},
        )

    @post("/requests")
    async def register(
        self, request: Request, data: URLEncodedBody[LetterForm]
    ) -> Template | Redirect:
        user = await current_staff(request)
        try:
            kind = RequestKind(data.kind)
            received = None
            if data.received:
                day = date.fromisoformat(data.received)
                received = datetime.combine(day, time(12), MOSCOW)
            created = await handling.register_letter(
                user,
                kind,
                {name: getattr(data, name) for name in handling.REQUESTER_FIELDS},
                subject_id=_uuid(data.subject) if data.subject.strip() else None,
                details=data.details,
                received_at=received,
            )
        except (ValueError, Refused) as problem:
            message = (
                problem.message
                if isinstance(problem, Refused)
                else "выберите вид запроса и дату в формате ГГГГ-ММ-ДД"
            )
            return Template(
                "admin/dpo_new.html",
                context={
                    "user": user,
                    "rules": RULES,
                    "values": msgspec.structs.asdict(data),
                    "error": message,
                },
                status_code=400,
            )
        return Redirect(f"/admin/dpo/requests/{created.id}", status_code=303)

    @get("/requests/{request_id:int}")
    async def detail(self, request: Request, request_id: FromPath[int]) -> Template:
        """One request: its clock, history, the next steps and how to execute it."""
        user = await current_staff(request)
        page = await rights.request_page(request_id, user)
        if page is None:
            raise NotFoundException("нет такого запроса")
        item = page.request
        rule = RULES[item.kind]
        return Template(
            "admin/dpo_request.html",
            context={
                "user": user,
                "item": item,
                "rule": rule,
                "urgency": item.urgency(),
                "urgency_labels": URGENCY_LABELS,
                "statuses": STATUS_LABELS,
                "channels": CHANNEL_LABELS,
                "next": NEXT[item.status],
                "history": page.history,
                "requester_labels": handling.REQUESTER_FIELDS,
                "action": handling.action_of(item.kind),
                "extendable": rule.extendable and item.extended_at is None and item.open,
                "state": page.state,
                "profile": page.profile,
                "fields": FIELDS,
                "acts": page.acts,
            },
        )

    @post("/requests/{request_id:int}/transition")
    async def transition(
        self, request: Request, request_id: FromPath[int], data: URLEncodedBody[TransitionForm]
    ) -> Redirect:
        """Move the request on; a refusal needs a reason (and its legal ground)."""
        user = await current_staff(request)
        assert user is not None
        if data.to not in STATUS_LABELS:
            raise ClientException("выберите следующий шаг")
        await rights.transition(
            request_id,
            data.to,
            user.id,
            note=data.note.strip()[:2000] or None,
            notice=data.notice.strip()[:4000] or None,
            reason=data.reason.strip()[:4000] or None,
        )
        return Redirect(f"/admin/dpo/requests/{request_id}", status_code=303)

    @post("/requests/{request_id:int}/extend")
    async def extend(
        self, request: Request, request_id: FromPath[int], data: URLEncodedBody[ReasonForm]
    ) -> Redirect:
        """The one extension (+5 working days) with the reasoned notice to the subject."""
        user = await current_staff(request)
        assert user is not None
        await rights.extend(request_id, user.id, data.reason)
        return Redirect(f"/admin/dpo/requests/{request_id}", status_code=303)

    @post("/requests/{request_id:int}/subject")
    async def link(
        self, request: Request, request_id: FromPath[int], data: URLEncodedBody[SubjectForm]
    ) -> Redirect:
        """Identity check of a letter: tie it to the subject okno knows (a pseudonymous id)."""
        user = await current_staff(request)
        await handling.link_subject(request_id, _uuid(data.subject), user)
        return Redirect(f"/admin/dpo/requests/{request_id}", status_code=303)

    @post("/requests/{request_id:int}/execute")
    async def execute(
        self, request: Request, request_id: FromPath[int], data: URLEncodedBody[ExecuteForm]
    ) -> Response[Any] | Redirect:
        """Execute an approved request: answer, correct, block, stop or destroy."""
        user = await current_staff(request)
        if data.confirm != "yes":
            raise ClientException("подтвердите исполнение запроса")
        done = await handling.execute(
            request_id,
            user,
            fields=_chosen(data),
            reference=data.reference,
            field=data.field,
            value=data.value,
        )
        if done is None:
            raise NotFoundException("нет такого запроса")
        if done.act_id is not None:
            return Redirect(f"/admin/dpo/acts/{done.act_id}", status_code=303)
        if done.answer is not None:
            name = f"okno-answer-{request_id}.json"
            return Response(
                done.answer,
                status_code=200,
                headers={"content-disposition": f'attachment; filename="{name}"'},
            )
        return Redirect(f"/admin/dpo/requests/{request_id}", status_code=303)

    # ------------------------------------------------------------ subjects

    @get("/find")
    async def find(self, q: FromQuery[str] = "") -> Redirect:
        """A subject by conversation number («Клиент #7», «7») or by pseudonymous id."""
        subject = await rights.find_subject(q)
        if subject is None:
            raise NotFoundException("нет такого субъекта")
        return Redirect(f"/admin/dpo/subjects/{subject}", status_code=303)

    @get("/subjects/{subject_id:str}")
    async def subject(self, request: Request, subject_id: FromPath[str]) -> Template:
        """A subject by pseudonymous id: fields (names, not values), blocking, requests, acts."""
        page = await rights.subject_page(_uuid(subject_id))
        if page is None:
            raise NotFoundException("нет такого субъекта")
        return Template(
            "admin/dpo_subject.html",
            context={
                "user": await current_staff(request),
                "subject": page.subject,
                "profile": page.profile,
                "conversation": page.conversation,
                "requests": page.requests,
                "acts": page.acts,
                "fields": FIELDS,
                "statuses": STATUS_LABELS,
            },
        )

    @post("/subjects/{subject_id:str}/block")
    async def block(
        self, request: Request, subject_id: FromPath[str], data: URLEncodedBody[SubjectActionForm]
    ) -> Redirect:
        """Block the subject (or some fields) for the time of a check; logged."""
        return await _change_blocking(request, subject_id, data, blocking.block)

    @post("/subjects/{subject_id:str}/unblock")
    async def unblock(
        self, request: Request, subject_id: FromPath[str], data: URLEncodedBody[SubjectActionForm]
    ) -> Redirect:
        """Lift the block once the check is over; logged."""
        return await _change_blocking(request, subject_id, data, blocking.unblock)

    @post("/subjects/{subject_id:str}/destroy")
    async def destroy(
        self, request: Request, subject_id: FromPath[str], data: URLEncodedBody[SubjectActionForm]
    ) -> Redirect:
        """Destruction the DPO decides on without a request (e.g. unlawful processing found)."""
        user = await current_staff(request)
        key = _uuid(subject_id)
        if data.confirm != "yes":
            raise ClientException("подтвердите уничтожение")
        act = await erasure.destroy_on_decision(
            key, fields=_chosen(data), actor=user, reason=data.reason, reference=data.reference
        )
        return Redirect(f"/admin/dpo/acts/{act.id}", status_code=303)

    # ------------------------------------------------------------ acts

    @get("/acts")
    async def act_list(self, request: Request) -> Template:
        made = await acts.listing()
        return Template(
            "admin/dpo_acts.html", context={"user": await current_staff(request), "acts": made}
        )

    @get("/acts/{act_id:int}")
    async def act(self, request: Request, act_id: FromPath[int]) -> Template:
        """The act and the log extract, printable (print to PDF from the browser)."""
        page = await erasure.act_page(act_id)
        if page is None:
            raise NotFoundException("нет такого акта")
        return Template(
            "admin/dpo_act.html",
            context={
                "user": await current_staff(request),
                "act": page.act,
                "rewrite": page.rewrite,
                "anchor": page.anchor,
            },
        )

    @get("/acts/{act_id:int}/json")
    async def act_json(self, act_id: FromPath[int]) -> Response[Any]:
        """The act, the extract and the act's SHA-256, as a JSON file."""
        found = await acts.get(act_id)
        if found is None:
            raise NotFoundException("нет такого акта")
        return Response(
            found.document(),
            headers={"content-disposition": f'attachment; filename="okno-act-{act_id}.json"'},
        )

    # ------------------------------------------------------------ processing log

    @get("/log")
    async def log(
        self,
        request: Request,
        subject: FromQuery[str] = "",
        action: FromQuery[str] = "",
        actor: FromQuery[str] = "",
        purpose: FromQuery[str] = "",
        since: FromQuery[date | None] = None,
        until: FromQuery[date | None] = None,
        format: FromQuery[str] = "html",
    ) -> Template | Response[Any]:
        """The processing log, filtered; CSV for the filtered rows."""
        if action and action not in Action.__members__.values():
            raise ClientException("нет такого действия")
        actor_kind, _, actor_id = actor.partition(":")
        if actor and actor_kind not in ("subject", "staff", "system", "integration"):
            raise ClientException("исполнитель: subject, system или staff:<номер>")
        start = datetime.combine(since or date(2000, 1, 1), time.min, MOSCOW)
        end = datetime.combine(until or date(2999, 1, 1), time.min, MOSCOW) + timedelta(days=1)
        limit = 100_000 if format == "csv" else 500
        rows = await rights.search_log(
            LogFilter(
                start=start,
                end=end,
                limit=limit,
                subject_id=_uuid(subject) if subject.strip() else None,
                action=action,
                actor_kind=actor_kind if actor else "",
                actor_id=actor_id,
                purpose=purpose.strip(),
            )
        )
        if format == "csv":
            return _csv(rows)
        return Template(
            "admin/dpo_log.html",
            context={
                "user": await current_staff(request),
                "rows": rows,
                "actions": ACTION_LABELS,
                "filters": {
                    "subject": subject,
                    "action": action,
                    "actor": actor,
                    "purpose": purpose,
                    "since": since.isoformat() if since else "",
                    "until": until.isoformat() if until else "",
                },
                "query": str(request.url.query or ""),
                "limit": limit,
            },
        )

    @post("/log/verify", status_code=200)
    async def verify(self, request: Request) -> Template:
        """`okno log verify` as a button: the hash chain checked from the first row."""
        result = await rights.verify_log("консоль ответственного")
        return Template(
            "admin/dpo_verify.html",
            context={"user": await current_staff(request), "result": result},
        )

    # ------------------------------------------------------------ retention

    @get("/retention")
    async def retention_page(self, request: Request) -> Template:
        """What the retention job will do next, and what its last runs did."""
        page = await erasure.retention_page()
        return Template(
            "admin/dpo_retention.html",
            context={
                "user": await current_staff(request),
                "expired": page.expired,
                "due": page.due,
                "purge": page.purge,
                "runs": page.runs,
            },
        )

    @post("/retention/run")
    async def retention_run(self, data: URLEncodedBody[ConfirmForm]) -> Redirect:
        """Run the retention job now (it also runs on schedule and from cron)."""
        if data.confirm != "yes":
            raise ClientException("подтвердите запуск задания хранения")
        await erasure.run_retention()
        return Redirect("/admin/dpo/retention", status_code=303)


def _csv(rows: list[LogRow]) -> Response[bytes]:
    body = rows_to_csv(
        LOG_COLUMNS,
        (
            [
                row.id,
                row.at.isoformat(),
                row.at.astimezone(MOSCOW).strftime("%d.%m.%Y %H:%M:%S"),
                row.actor_kind,
                row.actor_id or "",
                str(row.subject_id) if row.subject_id else "",
                row.action,
                " ".join(row.categories),
                " ".join(row.fields),
                row.purpose or "",
                row.legal_basis or "",
                row.request_id or "",
                row.reason or "",
            ]
            for row in rows
        ),
    )
    name = f"okno-processing-log-{date.today().isoformat()}.csv"
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


route_handlers = [DpoConsole]


async def _change_blocking(
    request: Request, subject_id: str, data: SubjectActionForm, change: Any
) -> Redirect:
    user = await current_staff(request)
    assert user is not None
    key = _uuid(subject_id)
    await change(key, user.id, fields=_chosen(data))
    return Redirect(f"/admin/dpo/subjects/{key}", status_code=303)
