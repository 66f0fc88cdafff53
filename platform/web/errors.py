"""Error responses: a clear message for the person, nothing of their data in pages or logs."""

from __future__ import annotations

import logging
import traceback
from urllib.parse import quote

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

logger = logging.getLogger("okno.errors")


def wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def _error(request: Request, status: int, message: str) -> Response:
    if wants_html(request):
        return Template(
            "error.html", context={"status": status, "message": message}, status_code=status
        )
    return Response({"status": status, "error": message}, status_code=status)


def http_error(request: Request, exc: HTTPException) -> Response:
    if (
        isinstance(exc, NotAuthorizedException)
        and wants_html(request)
        and request.url.path.startswith("/admin")
    ):
        return Redirect(f"/admin/login?next={quote(request.url.path)}")
    message = exc.detail
    extra = exc.extra if isinstance(exc.extra, list) else []
    details = "; ".join(str(item.get("message", "")) for item in extra if isinstance(item, dict))
    if details:
        message = f"{message}: {details}"
    return _error(request, exc.status_code, message)


def server_error(request: Request, exc: Exception) -> Response:
    # The exception's text may quote a value (a database error's detail): log where, not what.
    frames = traceback.extract_tb(exc.__traceback__)[-4:]
    where = " <- ".join(
        f"{f.filename.rsplit('/', 2)[-1]}:{f.lineno} {f.name}" for f in reversed(frames)
    )
    logger.error(
        "unhandled %s on %s %s at %s", type(exc).__name__, request.method, request.url.path, where
    )
    return _error(request, HTTP_500_INTERNAL_SERVER_ERROR, "внутренняя ошибка сервера")
