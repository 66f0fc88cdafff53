"""The client's chat page, and the script a company embeds on its own site."""

from __future__ import annotations

from pathlib import Path

from litestar import Controller, Request, Response, get
from litestar.datastructures import Cookie
from litestar.params import FromQuery
from litestar.response import Template

from okno.platform import database
from okno.platform.app import secure_cookies
from okno.platform.chat import visitors
from okno.platform.settings import get_settings
from okno.platform.web.access import PUBLIC
from okno.platform.web.security import CSP

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
            response.cookies.append(
                Cookie(
                    key=visitors.VISITOR_COOKIE,
                    value=await visitors.create(),
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

    @get("/widget.js", opt=PUBLIC)
    async def widget(self) -> Response[bytes]:
        """The one-line embed: ``<script src="https://okno.example/widget.js" async></script>``."""
        return Response(
            WIDGET_SCRIPT.read_bytes(),
            media_type="text/javascript; charset=utf-8",
            headers={"cache-control": "public, max-age=300"},
        )
