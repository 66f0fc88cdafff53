"""The client's chat page, and the script a company embeds on its own site."""

from __future__ import annotations

from pathlib import Path

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.exceptions import NotFoundException
from litestar.params import FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from okno.platform.chat import bot, routing, visitors, welcome
from okno.platform.chat.errors import ChatError
from okno.platform.chat.schemas import TopicChoice
from okno.platform.chatsettings import service as chatsettings
from okno.platform.consent import documents, prechat
from okno.platform.consent.prechat import PrechatForm
from okno.platform.settings import get_settings
from okno.platform.web.access import PUBLIC, visitor_guard
from okno.platform.web.security import CSP, rebind_csrf, secure_cookies

WIDGET_SCRIPT = Path(__file__).resolve().parent.parent / "static" / "portal" / "widget.js"
VISITOR_DAYS = 365


class ChatPages(Controller):
    include_in_schema = False

    @get("/chat", opt=PUBLIC)
    async def chat(self, request: Request, embed: FromQuery[int] = 0) -> Template:
        """The chat; recognises the browser by its visitor cookie, or gives it one."""
        settings = get_settings()
        chat = (await chatsettings.current()).settings
        token = request.cookies.get(visitors.VISITOR_COOKIE)
        known = await visitors.find(token)
        topics = await welcome.active_topics()
        if chat.prechat_form and (known is None or known.subject_id is None):
            response = await _prechat_page(topics, bool(embed))
        else:
            response = Template(
                "portal/chat.html",
                context={
                    "chat": chat,
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
            origins = " ".join(await chatsettings.allowed_origins())
            response.headers["content-security-policy"] = CSP.replace(
                "frame-ancestors 'none'", f"frame-ancestors 'self' {origins}".strip()
            )
        return response

    @post("/chat/prechat", guards=[visitor_guard])
    async def prechat(
        self, request: Request, data: URLEncodedBody[PrechatForm], embed: FromQuery[int] = 0
    ) -> Template | Redirect:
        """The pre-chat form's answer: the conversation starts with what the visitor chose."""
        if not (await chatsettings.current()).settings.prechat_form:
            raise NotFoundException("форма перед чатом выключена")
        try:
            conversation = await prechat.submit(
                request.state.visitor,
                data,
                request.client.host if request.client else None,
                request.headers.get("user-agent"),
            )
        except ChatError as refused:
            topics = await welcome.active_topics()
            page = await _prechat_page(topics, bool(embed), error=refused.message, values=data)
            page.status_code = 400
            return page
        await routing.assign_waiting()
        await bot.tell_if_closed(conversation)
        return Redirect("/chat?embed=1" if embed else "/chat", status_code=303)

    @get("/widget.js", opt=PUBLIC)
    async def widget(self) -> Response[bytes]:
        """The one-line embed: a ``<script async>`` whose src is ``/widget.js`` on okno's host.
        The console's colour, launcher side and allowed sites are written into it: on a site
        that may not embed the chat, the panel says so instead of showing a refused frame."""
        chat = (await chatsettings.current()).settings
        origins = await chatsettings.allowed_origins()
        config = msgspec.json.encode(
            {"accent": chat.accent, "side": chat.launcher, "origins": origins}
        ).decode()
        script = WIDGET_SCRIPT.read_text(encoding="utf-8").replace("/*OKNO_CONFIG*/ {}", config, 1)
        return Response(
            script.encode(),
            media_type="text/javascript; charset=utf-8",
            headers={"cache-control": "public, max-age=60"},
        )

    @get("/chat/theme.css", opt=PUBLIC)
    async def theme(self) -> Response[bytes]:
        """The accent colour set in «Чат и виджет», as CSS variables after okno.css."""
        accent = (await chatsettings.current()).settings.accent
        return Response(
            theme_css(accent).encode(),
            media_type="text/css; charset=utf-8",
            headers={"cache-control": "no-cache"},
        )


def theme_css(accent: str) -> str:
    """``--accent`` and the two shades okno.css derives from it (darker, and a pale tint).

    The darker shade is text (links, topic buttons, names) on white and on the tint, and the
    fill under white text: it is darkened until it has WCAG 2.1 AA contrast (4.5:1) with the
    tint, whatever accent the company chose."""
    red, green, blue = (int(accent[i : i + 2], 16) for i in (1, 3, 5))

    def shade(factor: float) -> tuple[int, ...]:
        return tuple(round(c * factor) for c in (red, green, blue))

    def tint(share: float) -> tuple[int, ...]:
        return tuple(round(c + (255 - c) * share) for c in (red, green, blue))

    soft = tint(0.86)
    factor = 0.82
    while factor > 0 and contrast(shade(factor), soft) < 4.6:
        factor -= 0.02
    return (
        f":root {{ --accent: {accent}; --accent-dark: {hex_colour(shade(max(factor, 0)))};"
        f" --accent-soft: {hex_colour(soft)}; }}\n"
        # The brand mark without okno's own blue square, so the accent shows through.
        '.avatar-brand, .welcome-mark { background-image: url("/static/web/chat-mark.svg"); }\n'
    )


def hex_colour(rgb: tuple[int, ...]) -> str:
    return "#" + "".join(f"{c:02x}" for c in rgb)


def contrast(one: tuple[int, ...], other: tuple[int, ...]) -> float:
    """The WCAG 2.1 contrast ratio of two sRGB colours."""

    def luminance(rgb: tuple[int, ...]) -> float:
        linear = [
            c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
            for c in (v / 255 for v in rgb)
        ]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    lighter, darker = sorted((luminance(one), luminance(other)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


async def _prechat_page(
    topics: list[TopicChoice],
    embed: bool,
    *,
    error: str | None = None,
    values: PrechatForm | None = None,
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
