"""The HTTP edge: security headers, cookie hygiene, request paths, and CSRF bound to the session.

Two ASGI layers, see ``docs/security.md``:

* ``edge`` wraps the whole application (also Litestar's own 404/405 answers and sockets). It
  refuses paths with control characters, adds the security headers (HSTS under HTTPS,
  ``Cache-Control: no-store`` unless a route set its own), and keeps okno's cookies honest:
  a cookie sent twice (a sibling host planted a second one) counts as absent, and under HTTPS
  okno's cookies carry the ``__Host-`` prefix, so a sibling host cannot set them at all;
  handlers keep using the plain names.
* ``csrf`` runs per route. A state-changing request must carry a token that is an HMAC, keyed
  with the server's secret, of the identity cookies that request carries (staff session, portal
  session, chat visitor; an anonymous nonce when it has none). A token read from one session
  is worthless in another, and every sign-in and sign-out rotates it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Iterable
from typing import Any, cast

from litestar.connection import Request
from litestar.datastructures import Cookie
from litestar.enums import RequestEncodingType
from litestar.exceptions import PermissionDeniedException
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from okno.platform.settings import Settings

# Where the integrations' API lives: its calls carry a bearer token, never a cookie, so a
# cross-site page cannot make them for anyone and the CSRF check does not apply there.
API_PREFIX = "/api/v1/"

logger = logging.getLogger("okno.security")

CSP = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self';"
    " script-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none';"
    " base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
NO_STORE = (b"cache-control", b"no-store")

CSRF_COOKIE = "okno_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "_csrf_token"
# The cookies a request's identity is read from, in the order they enter the CSRF token.
IDENTITY_COOKIES = ("okno_staff", "okno_portal", "okno_visitor")
# Every cookie okno sets (all with Path=/): prefixed under HTTPS, refused when sent twice.
OKNO_COOKIES = frozenset({*IDENTITY_COOKIES, CSRF_COOKIE, "okno_portal_login", "okno_known"})
HOST_PREFIX = "__Host-"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# ---------------------------------------------------------------- the edge


def secure_cookies(settings: Settings) -> bool:
    """Whether okno's cookies carry ``Secure`` (and, under HTTPS, the ``__Host-`` prefix)."""
    public_https = (settings.public_url or "").startswith("https://")
    return settings.cookie_secure == "always" or (settings.cookie_secure == "auto" and public_https)


def _extra(scope: Scope) -> dict[str, Any]:
    """The scope as a plain dict, for okno's own per-request keys (``okno_*``)."""
    return cast("dict[str, Any]", scope)


def _bad_path(path: str) -> bool:
    return any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in path)


def _clean_cookies(header: str, prefixed: bool) -> tuple[str, list[str]]:
    """The Cookie header with okno's cookies under their plain names, without any sent twice."""
    pairs: list[tuple[str, str]] = []
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep:
            pairs.append((name.strip(), value.strip()))
    seen: dict[str, int] = {}
    kept: list[tuple[str, str]] = []
    for name, value in pairs:
        plain = name
        if prefixed:
            if name in OKNO_COOKIES:
                continue  # without the prefix: anyone on the parent domain could have set it
            if name.startswith(HOST_PREFIX) and name[len(HOST_PREFIX) :] in OKNO_COOKIES:
                plain = name[len(HOST_PREFIX) :]
        kept.append((plain, value))
        if plain in OKNO_COOKIES:
            seen[plain] = seen.get(plain, 0) + 1
    twice = sorted(name for name, count in seen.items() if count > 1)
    kept = [(name, value) for name, value in kept if name not in twice]
    return "; ".join(f"{name}={value}" for name, value in kept), twice


def _prefix_set_cookie(value: bytes) -> bytes:
    name, sep, rest = value.partition(b"=")
    if sep and name.decode("latin-1").strip() in OKNO_COOKIES:
        # The prefix binds the cookie to this host; browsers take it only with Secure, Path=/.
        secure = b"" if b"; secure" in rest.lower() else b"; Secure"
        # A cookie for a widget framed by another site (SameSite=None) is partitioned by that
        # site (CHIPS): the identity a visitor has in shop A's widget is not sent when some
        # other site frames okno.
        partitioned = b"; Partitioned" if b"samesite=none" in rest.lower() else b""
        return HOST_PREFIX.encode() + name.strip() + b"=" + rest + secure + partitioned
    return value


def edge(app: ASGIApp, *, https: bool, prefixed: bool) -> ASGIApp:
    """The outermost layer (see the module's docstring). ``https``: the public URL is https
    (HSTS); ``prefixed``: cookies are Secure, so they carry the ``__Host-`` prefix."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await app(scope, receive, send)
            return
        raw_path = scope.get("raw_path") or scope["path"].encode()
        if _bad_path(scope["path"]) or b"%00" in raw_path.lower() or b"\x00" in raw_path:
            if scope["type"] == "http":
                await _plain_answer(send, 400, "недопустимый адрес".encode(), https, prefixed)
            else:
                await send(cast("Message", {"type": "websocket.close", "code": 1008}))
            return
        headers = [(n, v) for n, v in scope.get("headers", []) if n != b"cookie"]
        cookies = [v.decode("latin-1") for n, v in scope.get("headers", []) if n == b"cookie"]
        if cookies:  # one header, however many the client sent: a duplicate is a duplicate
            cleaned, twice = _clean_cookies("; ".join(cookies), prefixed)
            if twice:
                logger.warning("ignored cookies sent twice: %s", ", ".join(twice))
            headers.append((b"cookie", cleaned.encode("latin-1")))
        scope["headers"] = headers
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        # Static files hold no PD and may be cached; pages and API answers are never stored.
        cacheable = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _response_headers(
                    message.get("headers", []), https, prefixed, cacheable=cacheable
                )
            await send(message)

        await app(scope, receive, send_with_headers)

    return middleware


def _response_headers(
    headers: Iterable[tuple[bytes, bytes]], https: bool, prefixed: bool, *, cacheable: bool = False
) -> list[Any]:
    headers = [
        (name, _prefix_set_cookie(value) if prefixed and name.lower() == b"set-cookie" else value)
        for name, value in headers
    ]
    present = {name.lower() for name, _ in headers}
    # A response with its own CSP (the widget frame, an attachment) chose its frame-ancestors.
    if b"content-security-policy" in present:
        present.add(b"x-frame-options")
    extra = [(name, value) for name, value in HEADERS if name not in present]
    if b"cache-control" not in present and not cacheable:
        extra.append(NO_STORE)
    if https:
        extra.append(HSTS)
    return [*headers, *extra]


async def _plain_answer(send: Send, status: int, body: bytes, https: bool, prefixed: bool) -> None:
    headers = [(b"content-type", b"text/plain; charset=utf-8")]
    start = {
        "type": "http.response.start",
        "status": status,
        "headers": _response_headers(headers, https, prefixed),
    }
    await send(cast("Message", start))
    await send(cast("Message", {"type": "http.response.body", "body": body}))


# ---------------------------------------------------------------- CSRF


def _binding(cookies: dict[str, str]) -> str | None:
    parts = [f"{name}={cookies[name]}" for name in IDENTITY_COOKIES if cookies.get(name)]
    if not parts and cookies.get(CSRF_COOKIE):
        parts = [f"{CSRF_COOKIE}={cookies[CSRF_COOKIE]}"]
    return "&".join(parts) or None


def csrf_token_for(secret: str, cookies: dict[str, str]) -> str | None:
    """The token a request with these cookies must send back; None: it has nothing to bind to."""
    binding = _binding(cookies)
    if binding is None:
        return None
    return hmac.new(secret.encode(), f"okno-csrf|{binding}".encode(), hashlib.sha256).hexdigest()


def _scope_cookies(scope: Scope) -> dict[str, str]:
    """okno's cookies as ``edge`` left them (plain names, none sent twice)."""
    cookies: dict[str, str] = {}
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                key, sep, content = part.strip().partition("=")
                if sep and key in OKNO_COOKIES:
                    cookies[key] = content.strip().strip('"')
    return cookies


def rebind_csrf(request: Request[Any, Any, Any], name: str, value: str | None) -> None:
    """A handler that sets (``value``) or clears (None) an identity cookie in its response
    calls this, so the page it renders carries the token its next request will need."""
    secret = request.app.state.csrf_secret
    extra = _extra(request.scope)
    cookies = extra.setdefault("okno_cookies", _scope_cookies(request.scope))
    if value is None:
        cookies.pop(name, None)
    else:
        cookies[name] = value
    if _binding(cookies) is None:
        cookies[CSRF_COOKIE] = extra["okno_new_nonce"] = secrets.token_urlsafe(24)
    ScopeState.from_scope(request.scope).csrf_token = csrf_token_for(secret, cookies) or ""


def new_nonce_cookie(secure: bool) -> Cookie:
    """A fresh anonymous nonce, set at every sign-in and sign-out."""
    return Cookie(
        key=CSRF_COOKIE,
        value=secrets.token_urlsafe(24),
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )


def csrf(secret: str, secure: bool) -> Any:
    """Route-level middleware factory: refuses unsafe requests without the session's token."""

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            # A messenger's webhook carries no cookie; it proves itself with the channel's
            # secret, checked by its handler (okno.platform.channels.service.check_secret).
            # The integrations' API is admitted by its bearer token alone (API_PREFIX).
            if (
                scope["type"] != "http"
                or scope["route_handler"].opt.get("webhook")
                or scope["path"].startswith(API_PREFIX)
            ):
                await app(scope, receive, send)
                return
            extra = _extra(scope)
            extra["okno_cookies"] = cookies = _scope_cookies(scope)
            request: Request[Any, Any, Any] = scope["litestar_app"].request_class(
                scope=scope, receive=receive
            )
            state = ScopeState.from_scope(scope)
            if extra["method"] in SAFE_METHODS:
                if _binding(cookies) is None:
                    cookies[CSRF_COOKIE] = extra["okno_new_nonce"] = secrets.token_urlsafe(24)
                state.csrf_token = csrf_token_for(secret, cookies) or ""
                await app(scope, receive, _setting_nonce(send, scope, secure))
                return
            expected = csrf_token_for(secret, cookies)
            sent = request.headers.get(CSRF_HEADER)
            if not sent and request.content_type[0] in (
                RequestEncodingType.URL_ENCODED,
                RequestEncodingType.MULTI_PART,
            ):
                form = await request.form()
                sent = form.get(CSRF_FIELD)
            if not (expected and isinstance(sent, str) and hmac.compare_digest(sent, expected)):
                raise PermissionDeniedException(
                    "проверка CSRF не пройдена: обновите страницу и повторите"
                )
            state.csrf_token = expected
            await app(scope, receive, _setting_nonce(send, scope, secure))

        return middleware

    return factory


def _setting_nonce(send: Send, scope: Scope, secure: bool) -> Send:
    """Sends the anonymous nonce made for this request (if one was made) as a cookie."""

    async def wrapped(message: Message) -> None:
        nonce = _extra(scope).get("okno_new_nonce")
        if nonce and message["type"] == "http.response.start":
            names = [
                value.split(b"=", 1)[0].strip()
                for name, value in message.get("headers", [])
                if name.lower() == b"set-cookie"
            ]
            if CSRF_COOKIE.encode() not in names:
                cookie = Cookie(
                    key=CSRF_COOKIE,
                    value=str(nonce),
                    httponly=True,
                    samesite="lax",
                    secure=secure,
                    path="/",
                )
                message["headers"] = [
                    *message.get("headers", []),
                    (b"set-cookie", cookie.to_header(header="").encode("latin-1")),
                ]
        await send(message)

    return wrapped
