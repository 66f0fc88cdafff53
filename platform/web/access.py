"""Who may call a route: every handler declares it, and a test walks the route table to check.

A handler is public (``opt={"access": "public"}``), for the visiting client's own data
(the ``visitor`` guard: "subject"), for either that client or staff who may see the
conversation (``"subject-or-staff"``, checked in the handler), a messenger's webhook that proves
itself with its channel's secret (``"webhook"``, checked in the handler, no CSRF), guarded by
``staff(*roles)``, or for an integration's API token with one scope (``api_token(scope)``:
"token:<scope>").
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers import BaseRouteHandler

from okno.platform.apitokens import service as apitokens
from okno.platform.apitokens.service import ApiClient
from okno.platform.chat import visitors
from okno.platform.staff import sessions
from okno.platform.staff.roles import Role
from okno.platform.staff.schemas import StaffUser

STAFF_COOKIE = "okno_staff"
PUBLIC: dict[str, Any] = {"access": "public"}

Guard = Callable[[ASGIConnection, BaseRouteHandler], Awaitable[None]]


# Routes an account that must change its password may still use (``opt``).
PASSWORD_CHANGE: dict[str, Any] = {"password_change": True}


class PasswordChangeRequired(PermissionDeniedException):
    """The account signed in with a one-time password and must choose its own first."""


async def current_staff(connection: ASGIConnection) -> StaffUser | None:
    """The signed-in staff member, looked up once per request (also one who must still change
    the one-time password: the guard refuses those everywhere but the password page)."""
    if "staff_user" not in connection.state:
        token = connection.cookies.get(STAFF_COOKIE)
        connection.state.staff_user = (
            await sessions.session_user(token, allow_must_change=True) if token else None
        )
    return connection.state.staff_user


async def socket_staff(token: str | None) -> StaffUser | None:
    """The staff member behind a socket's session cookie; the same rules as ``staff()``'s guard
    (live, not idle, enabled, password already changed)."""
    return await sessions.session_user(token) if token else None


def staff(*roles: Role) -> Guard:
    """A guard that admits signed-in staff in one of ``roles``."""
    allowed = frozenset(roles)

    async def guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
        user = await current_staff(connection)
        if user is None:
            raise NotAuthorizedException("войдите как сотрудник")
        if user.must_change_password and not handler.opt.get("password_change"):
            raise PasswordChangeRequired("сначала смените одноразовый пароль: /admin/password")
        if user.role not in allowed:
            raise PermissionDeniedException("у вашей роли нет доступа к этому разделу")

    guard.access = allowed  # type: ignore[attr-defined]
    return guard


ANY_STAFF = tuple(Role)


def api_token(scope: str) -> Guard:
    """A guard that admits a call with a live API token holding ``scope`` ("area:read")."""
    if scope not in apitokens.SCOPES:
        raise ValueError(f"no such API scope: {scope}")

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        kind, _space, secret = connection.headers.get("authorization", "").partition(" ")
        if kind.lower() != "bearer" or not secret.strip():
            raise NotAuthorizedException("нужен API-токен: заголовок Authorization: Bearer okno_…")
        client = await apitokens.authenticate(secret.strip())
        if scope not in client.scopes:
            raise PermissionDeniedException(f"у этого токена нет права {scope}")
        connection.state.api_client = client

    guard.access = f"token:{scope}"  # type: ignore[attr-defined]
    return guard


def api_client(connection: ASGIConnection) -> ApiClient:
    """The integration the ``api_token`` guard admitted for this call."""
    client: ApiClient = connection.state.api_client
    return client


def declared_access(handler: BaseRouteHandler) -> str | frozenset[Role] | None:
    """What a handler declares: "public", "subject", the staff roles, or None if nothing."""
    for guard in handler.resolve_guards():
        access = getattr(guard, "access", None)
        if access is not None:
            return access
    return handler.opt.get("access")


async def visitor_guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Admits a browser that holds a visitor cookie from ``GET /chat``."""
    visitor = await visitors.find(connection.cookies.get(visitors.VISITOR_COOKIE))
    if visitor is None:
        raise NotAuthorizedException("откройте чат заново: сеанс не найден")
    connection.state.visitor = visitor


visitor_guard.access = "subject"  # type: ignore[attr-defined]
