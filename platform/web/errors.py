"""Error responses: a clear message for the person, nothing of their data in pages or logs."""

from __future__ import annotations

import logging
import traceback
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Redirect, Template
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_409_CONFLICT,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)

from okno.platform import metrics
from okno.platform.erasure.verification import DestructionIncompleteError
from okno.platform.errors import Refused
from okno.platform.web.access import PasswordChangeRequired

logger = logging.getLogger("okno.errors")


class ErrorBody(msgspec.Struct):
    """Every JSON error: Litestar's shape, with a message for a person in ``detail``."""

    status_code: int
    detail: str
    extra: Any = None


ERROR_RESPONSES = {
    code: ResponseSpec(data_container=ErrorBody, description=description)
    for code, description in (
        (400, "неверный запрос: detail говорит, что не так"),
        (401, "нужно войти"),
        (403, "нет доступа или не пройдена проверка CSRF"),
        (404, "не найдено или недоступно вам"),
        (409, "конфликт с текущим состоянием"),
        (413, "слишком большой запрос"),
        (429, "слишком много попыток"),
        (503, "база данных недоступна: повторите через Retry-After секунд"),
    )
}


def loggable(path: str) -> str:
    """A path for a log line: control characters escaped, so a path cannot forge lines."""
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in path[:300])


def wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def _error(request: Request, status: int, message: str) -> Response:
    if wants_html(request):
        return Template(
            "error.html", context={"status": status, "message": message}, status_code=status
        )
    return Response(ErrorBody(status, message), status_code=status)


STATUS_MESSAGES = {
    400: "неверный запрос",
    401: "нужно войти",
    403: "доступ запрещён",
    404: "страница не найдена",
    405: "такой запрос по этому адресу не принимается",
    413: "слишком большой запрос",
    415: "неподдерживаемый формат запроса",
    429: "слишком много запросов, подождите немного",
}


def http_error(request: Request, exc: HTTPException) -> Response:
    if (
        isinstance(exc, NotAuthorizedException)
        and wants_html(request)
        and request.url.path.startswith("/admin")
    ):
        return Redirect(f"/admin/login?next={quote(request.url.path)}")
    if isinstance(exc, PasswordChangeRequired) and wants_html(request):
        return Redirect("/admin/password", status_code=303)
    message = exc.detail
    if message == HTTPStatus(exc.status_code).phrase:
        # Litestar's default detail is the English reason phrase: never on a Russian screen.
        message = STATUS_MESSAGES.get(exc.status_code, "запрос не выполнен")
    extra = exc.extra if isinstance(exc.extra, list) else []
    details = "; ".join(str(item.get("message", "")) for item in extra if isinstance(item, dict))
    if details:
        message = f"{message}: {details}"
    return _error(request, exc.status_code, message)


def refused(request: Request, exc: Refused) -> Response:
    """An operation the domain refused (any area's error): its status and its message, in the
    shape of every other 4xx answer, so no controller translates errors itself."""
    return _error(request, exc.status_code, exc.message)


def destruction_incomplete(request: Request, exc: DestructionIncompleteError) -> Response:
    """A destruction that found PD left behind (logged where it was found): not a refusal but
    a failure the DPO must see, with where (never the values), as a conflict with the act."""
    return _error(request, HTTP_409_CONFLICT, str(exc))


def data_error(request: Request, exc: asyncpg.DataError) -> Response:
    """A value PostgreSQL cannot take (an id beyond bigint, say) is the caller's error."""
    logger.info("refused a value out of range on %s %s", request.method, loggable(request.url.path))
    return _error(request, HTTP_400_BAD_REQUEST, "недопустимое значение параметра")


def server_error(request: Request, exc: Exception) -> Response:
    metrics.ERRORS.inc(where="http")
    # The exception's text may quote a value (a database error's detail): log where, not what.
    frames = traceback.extract_tb(exc.__traceback__)[-4:]
    where = " <- ".join(
        f"{f.filename.rsplit('/', 2)[-1]}:{f.lineno} {f.name}" for f in reversed(frames)
    )
    logger.error(
        "unhandled %s on %s %s at %s",
        type(exc).__name__,
        request.method,
        loggable(request.url.path),
        where,
    )
    return _error(request, HTTP_500_INTERNAL_SERVER_ERROR, "внутренняя ошибка сервера")


RETRY_AFTER_SECONDS = 5


def _from_the_database(exc: Exception) -> bool:
    """Whether an OSError (refused, reset, a missing Unix socket) came from reaching PostgreSQL,
    not from, say, a file of the data folder."""
    if isinstance(exc, TimeoutError):
        return True  # the pool's connect timed out
    return any("/asyncpg/" in frame.filename for frame in traceback.extract_tb(exc.__traceback__))


def database_unavailable(request: Request, exc: Exception) -> Response:
    """The database is away (okno.platform.database.UNAVAILABLE): 503, try again shortly."""
    if isinstance(exc, OSError) and not _from_the_database(exc):
        return server_error(request, exc)
    logger.warning(
        "database unavailable (%s) on %s %s", type(exc).__name__, request.method, request.url.path
    )
    response = _error(
        request, HTTP_503_SERVICE_UNAVAILABLE, "сервис временно недоступен, повторите позже"
    )
    response.headers["retry-after"] = str(RETRY_AFTER_SECONDS)
    return response
