"""«Мои данные» (/me): the data subject's own portal — see, export, revoke and ask.

Thin: every rule lives in ``okno.platform.selfservice``. The entry and sign-in pages are public
and show nothing of anyone; every other page needs the subject's portal session and reads only
that subject's rows.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST

from okno.platform.chat import visitors
from okno.platform.consent import receipts
from okno.platform.rights.deadlines import RULES, RequestKind
from okno.platform.rights.requests import STATUS_LABELS
from okno.platform.selfservice import (
    advertising,
    client_requests,
    codes,
    erasure,
    export,
    overview,
    sessions,
)
from okno.platform.selfservice.sessions import PORTAL_COOKIE, Session, subject_guard
from okno.platform.settings import get_settings
from okno.platform.subjects.fields import FIELDS
from okno.platform.web import security
from okno.platform.web.access import PUBLIC
from okno.platform.web.errors import wants_html
from okno.platform.web.security import secure_cookies
from okno.portal.controllers.documents import receipt_page


class AddressForm(msgspec.Struct):
    email: str = ""


class CodeForm(msgspec.Struct):
    code: str = ""


class GiveForm(msgspec.Struct):
    purpose: str = ""
    agree: str = ""


class RequestForm(msgspec.Struct):
    kind: str = ""
    field: str = ""
    new_value: str = ""
    comment: str = ""
    answer_incomplete: str = ""


def _session_cookie(token: str) -> Cookie:
    settings = get_settings()
    return Cookie(
        key=PORTAL_COOKIE,
        value=token,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(settings),
        max_age=settings.portal_session_minutes * 60,
        path="/",
    )


def _to_login(request: Request, exc: NotAuthorizedException) -> Response[Any]:
    if wants_html(request):
        return Redirect("/me/login", status_code=303)
    return Response({"status": 401, "error": exc.detail}, status_code=401)


def _subject(request: Request) -> Session:
    return request.state.portal


class PortalEntry(Controller):
    """Public: the way in, from the chat's browser or by a code sent to an e-mail on file."""

    path = "/me"
    include_in_schema = False

    @get("/", opt=PUBLIC)
    async def entry(self, request: Request) -> Redirect:
        """To the portal if signed in or coming from the chat's browser; else to sign-in."""
        if await sessions.find(request.cookies.get(PORTAL_COOKIE)) is not None:
            return Redirect("/me/data", status_code=303)
        token = await sessions.from_visitor(request.cookies.get(visitors.VISITOR_COOKIE))
        if token is None:
            return Redirect("/me/login", status_code=303)
        return Redirect("/me/data", status_code=303, cookies=[_session_cookie(token)])

    @get("/login", opt=PUBLIC)
    async def login_page(self, out: FromQuery[int] = 0) -> Template:
        return Template(
            "portal/selfservice_login.html", context={"step": "address", "signed_out": out}
        )

    @post("/login", opt=PUBLIC)
    async def send_code(
        self, request: Request, data: URLEncodedBody[AddressForm]
    ) -> Template | Redirect:
        """Send a code if the address is on file; the answer is the same either way."""
        ip = request.client.host if request.client else None
        try:
            login_token = await codes.request_code(data.email[:320], ip)
        except codes.CodeError as refused:
            return Template(
                "portal/selfservice_login.html",
                context={"step": "address", "error": str(refused), "email": data.email[:320]},
                status_code=refused.status_code,  # 429 when rate-limited
            )
        settings = get_settings()
        cookie = Cookie(
            key=codes.LOGIN_COOKIE,
            value=login_token,
            httponly=True,
            samesite="lax",
            secure=secure_cookies(settings),
            max_age=settings.portal_code_minutes * 60,
            path="/",  # under HTTPS the __Host- prefix needs Path=/
        )
        return Redirect("/me/login/code", status_code=303, cookies=[cookie])

    @get("/login/code", opt=PUBLIC)
    async def code_page(self) -> Template:
        return Template(
            "portal/selfservice_login.html",
            context={"step": "code", "minutes": get_settings().portal_code_minutes},
        )

    @post("/login/code", opt=PUBLIC)
    async def check_code(
        self, request: Request, data: URLEncodedBody[CodeForm]
    ) -> Template | Redirect:
        try:
            token = await codes.verify(request.cookies.get(codes.LOGIN_COOKIE), data.code[:20])
        except codes.CodeError as refused:
            return Template(
                "portal/selfservice_login.html",
                context={
                    "step": "code",
                    "error": str(refused),
                    "minutes": get_settings().portal_code_minutes,
                },
                status_code=HTTP_400_BAD_REQUEST,
            )
        await sessions.reopen_visitor(request.cookies.get(visitors.VISITOR_COOKIE), token)
        response = Redirect("/me/data", status_code=303, cookies=[_session_cookie(token)])
        response.delete_cookie(codes.LOGIN_COOKIE, path="/")
        return response


class PortalPages(Controller):
    """The subject's own pages: each reads only the session's subject."""

    path = "/me"
    guards = (subject_guard,)
    include_in_schema = False
    exception_handlers = {NotAuthorizedException: _to_login}  # noqa: RUF012

    @get("/data")
    async def data(self, request: Request) -> Template:
        """Every PD field held, with category, purpose, source and terms; the conversations."""
        subject = _subject(request)
        view = await overview.data_page(subject.subject_id)
        return Template("portal/selfservice_data.html", context={"tab": "data", **view})

    @get("/consents")
    async def consents(self, request: Request, done: FromQuery[str] = "") -> Template:
        """Active and withdrawn consents, each with the version agreed to and its receipt."""
        subject_id = _subject(request).subject_id
        found = await overview.consents(subject_id)
        return Template(
            "portal/selfservice_consents.html",
            context={
                "tab": "consents",
                "active": [c for c in found if c.active],
                "withdrawn": [c for c in found if not c.active],
                "offers": await advertising.offers(subject_id),
                "done": done[:40],
            },
        )

    @post("/consents/give")
    async def give(self, request: Request, data: URLEncodedBody[GiveForm]) -> Redirect:
        """An advertising consent, given by ticking the box and pressing the button."""
        await advertising.give(
            _subject(request).subject_id,
            data.purpose[:40],
            data.agree == "on",
            request.client.host if request.client else None,
            request.headers.get("user-agent"),
        )
        return Redirect("/me/consents?done=given", status_code=303)

    @get("/consents/{event_id:int}/receipt")
    async def consent_receipt(self, request: Request, event_id: FromPath[int]) -> Template:
        """The receipt of one of the subject's own consents."""
        return receipt_page(await receipts.receipt(_subject(request).subject_id, event_id))

    @get("/consents/{event_id:int}/withdraw")
    async def confirm_withdrawal(self, request: Request, event_id: FromPath[int]) -> Template:
        """What follows a withdrawal, before the subject confirms it."""
        preview = await client_requests.withdrawal_preview(_subject(request).subject_id, event_id)
        return Template("portal/selfservice_withdraw.html", context={"tab": "consents", **preview})

    @post("/consents/{event_id:int}/withdraw")
    async def withdraw(self, request: Request, event_id: FromPath[int]) -> Redirect:
        subject = _subject(request)
        await client_requests.withdraw(
            subject.subject_id,
            event_id,
            request.client.host if request.client else None,
            request.headers.get("user-agent"),
        )
        return Redirect(f"/me/consents?done={event_id}", status_code=303)

    @get("/history")
    async def history(self, request: Request) -> Template:
        """Who processed the subject's data and how, from the processing log, in plain words."""
        lines = await overview.history(_subject(request).subject_id)
        return Template(
            "portal/selfservice_history.html", context={"tab": "history", "lines": lines}
        )

    @get("/export")
    async def export_page(self, request: Request) -> Template:
        ready = await export.live(_subject(request).subject_id)
        return Template(
            "portal/selfservice_export.html",
            context={
                "tab": "export",
                "ready": ready,
                "hours": get_settings().portal_export_hours,
            },
        )

    @post("/export")
    async def make_export(self, request: Request) -> Redirect:
        """Build the JSON and HTML files (logged as provision) and show their links."""
        await export.create(_subject(request).subject_id)
        return Redirect("/me/export", status_code=303)

    @get("/export/{export_id:str}")
    async def download(self, request: Request, export_id: FromPath[str]) -> Response[bytes]:
        """One export file, while its link lives, for the subject it was made for."""
        found = await export.read(_subject(request).subject_id, export_id[:80])
        if found is None:
            raise NotFoundException("ссылка устарела или не ваша: сделайте новую выгрузку")
        fmt, body = found
        disposition = "attachment" if fmt == "json" else "inline"
        return Response(
            body,
            media_type=export.FORMATS[fmt],
            headers={
                "content-disposition": f'{disposition}; filename="okno-my-data.{fmt}"',
                "cache-control": "no-store",
            },
        )

    @get("/requests")
    async def requests_page(self, request: Request) -> Template:
        """The subject's requests with their legal deadlines, status and the DPO's answers."""
        return await self._requests(request)

    @post("/requests")
    async def file_request(self, request: Request, data: URLEncodedBody[RequestForm]) -> Any:
        subject = _subject(request)
        try:
            kind = RequestKind(data.kind)
        except ValueError:
            return await self._requests(request, error="выберите вид запроса", form=data)
        try:
            filed = await client_requests.file_request(
                subject.subject_id,
                kind,
                field=data.field or None,
                new_value=data.new_value or None,
                comment=data.comment,
                answer_incomplete=bool(data.answer_incomplete),
            )
        except client_requests.ActError as refused:
            return await self._requests(request, error=str(refused), form=data)
        if filed.request is None:
            return await self._requests(request, repeat=filed, form=data)
        return Redirect(f"/me/requests?filed={filed.request.id}", status_code=303)

    @post("/delete")
    async def delete_my_data(self, request: Request) -> Redirect:
        """«Удалить мои данные»: withdraw every consent, stop, destroy within 30 days."""
        filed = await erasure.delete_my_data(
            _subject(request).subject_id,
            request.client.host if request.client else None,
            request.headers.get("user-agent"),
        )
        return Redirect(f"/me/requests?filed={filed.request.id}", status_code=303)

    async def _requests(
        self,
        request: Request,
        *,
        error: str | None = None,
        repeat: client_requests.Filed | None = None,
        form: RequestForm | None = None,
    ) -> Template:
        subject = _subject(request)
        filed = request.query_params.get("filed", "")
        return Template(
            "portal/selfservice_requests.html",
            context={
                "tab": "requests",
                "requests": await client_requests.my_requests(subject.subject_id),
                "kinds": [
                    (k, RULES[k], client_requests.KIND_HINTS[k])
                    for k in client_requests.PORTAL_KINDS
                ],
                "fields": FIELDS,
                "statuses": STATUS_LABELS,
                "rules": RULES,
                "error": error,
                "repeat": repeat,
                "form": form or RequestForm(),
                "filed": filed if filed.isdigit() else "",
            },
            status_code=409 if repeat else (HTTP_400_BAD_REQUEST if error else 200),
        )

    @post("/logout")
    async def logout(self, request: Request) -> Redirect:
        """Ends the session, and the chat browser's way in: only a code by e-mail reopens it."""
        await sessions.sign_out(
            request.cookies.get(PORTAL_COOKIE), request.cookies.get(visitors.VISITOR_COOKIE)
        )
        response = Redirect("/me/login?out=1", status_code=303)
        response.delete_cookie(PORTAL_COOKIE, path="/")
        response.cookies.append(security.new_nonce_cookie(secure_cookies(get_settings())))
        return response


route_handlers = [PortalEntry, PortalPages]
