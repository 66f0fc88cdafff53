"""The client's chat page, and the script a company embeds on its own site."""

from __future__ import annotations

from pathlib import Path

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.exceptions import NotFoundException
from litestar.params import FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from okno.platform import database
from okno.platform.app import secure_cookies
from okno.platform.chat import visitors
from okno.platform.chat.errors import ChatError
from okno.platform.consent import documents, prechat
from okno.platform.consent.prechat import PrechatForm
from okno.platform.settings import get_settings
from okno.platform.web.access import PUBLIC, visitor_guard
from okno.platform.web.security import CSP, rebind_csrf

WIDGET_SCRIPT = Path(__file__).resolve().parent.parent / "static" / "portal" / "widget.js"
VISITOR_DAYS = 365


class ChatPages(Controller):
    include_in_schema = False

    @get("/chat", opt=PUBLIC)
    async def chat(self, request: Request, embed: FromQuery[int] = 0) -> Template:
        """The chat; recognises the browser by its visitor cookie, or gives it one."""
        settings = get_settings()
        token = request.cookies.get(visitors.VISITOR_COOKIE)
        known = await visitors.find(token)
        async with database.acquire() as conn:
            topics = await conn.fetch(
                "SELECT slug, title FROM topic WHERE active ORDER BY position, id"
            )
        if settings.prechat_form and (known is None or known.subject_id is None):
            response = await _prechat_page(topics, bool(embed))
        else:
            response = Template(
                "portal/chat.html",
                context={
                    "topics": topics,
                    "embed": bool(embed),
                    "edit_window_seconds": settings.edit_window_seconds,
                    "max_upload_bytes": settings.max_upload_bytes,
                },
            )
        if known is None:
            secure = secure_cookies(settings)
            # In a widget on another site the cookie is third-party: that needs SameSite=None,
            # which browsers accept only with Secure (HTTPS).
            visitor_token = await visitors.create()
            # The page's CSRF token must fit the cookie its next request carries.
            rebind_csrf(request, visitors.VISITOR_COOKIE, visitor_token)
            response.cookies.append(
                Cookie(
                    key=visitors.VISITOR_COOKIE,
                    value=visitor_token,
                    httponly=True,
                    secure=secure,
                    samesite="none" if secure else "lax",
                    max_age=VISITOR_DAYS * 24 * 3600,
                    path="/",
                )
            )
        if embed:
            origins = " ".join(settings.widget_origins.split())
            response.headers["content-security-policy"] = CSP.replace(
                "frame-ancestors 'none'", f"frame-ancestors 'self' {origins}".strip()
            )
        return response

    @post("/chat/prechat", guards=[visitor_guard])
    async def prechat(
        self, request: Request, data: URLEncodedBody[PrechatForm], embed: FromQuery[int] = 0
    ) -> Template | Redirect:
        """The pre-chat form's answer: the conversation starts with what the visitor chose."""
        if not get_settings().prechat_form:
            raise NotFoundException("форма перед чатом выключена")
        try:
            await prechat.submit(
                request.state.visitor,
                data,
                request.client.host if request.client else None,
                request.headers.get("user-agent"),
            )
        except ChatError as refused:
            async with database.acquire() as conn:
                topics = await conn.fetch(
                    "SELECT slug, title FROM topic WHERE active ORDER BY position, id"
                )
            page = await _prechat_page(topics, bool(embed), error=str(refused), values=data)
            page.status_code = 400
            return page
        return Redirect("/chat?embed=1" if embed else "/chat", status_code=303)

    @get("/widget.js", opt=PUBLIC)
    async def widget(self) -> Response[bytes]:
        """The one-line embed: a ``<script async>`` whose src is ``/widget.js`` on okno's host."""
        return Response(
            WIDGET_SCRIPT.read_bytes(),
            media_type="text/javascript; charset=utf-8",
            headers={"cache-control": "public, max-age=300"},
        )


async def _prechat_page(
    topics: object, embed: bool, *, error: str | None = None, values: PrechatForm | None = None
) -> Template:
    return Template(
        "portal/prechat.html",
        context={
            "topics": topics,
            "embed": embed,
            "error": error,
            "values": values or PrechatForm(),
            "policy": await documents.current("policy"),
            "processing": await documents.current_for_purpose("support"),
            "advertising": await documents.current_for_purpose("advertising-chat"),
        },
    )
