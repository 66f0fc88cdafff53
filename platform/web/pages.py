"""The home page and the health check."""

from __future__ import annotations

import msgspec
from litestar import Controller, Response, get
from litestar.response import Template
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE

from okno.platform.health import database_answers
from okno.platform.web.access import PUBLIC


class Health(msgspec.Struct, frozen=True):
    status: str  # ok, unavailable
    database: str  # ok, unreachable


class PagesController(Controller):
    @get("/", opt=PUBLIC, include_in_schema=False)
    async def home(self) -> Template:
        """Links to the chat, the subject's portal and the staff login."""
        return Template("home.html")

    @get("/healthz", opt=PUBLIC, tags=["service"])
    async def healthz(self) -> Response[Health]:
        """200 when the database answers, 503 when it does not."""
        if not await database_answers():
            return Response(
                Health("unavailable", "unreachable"), status_code=HTTP_503_SERVICE_UNAVAILABLE
            )
        return Response(Health("ok", "ok"))
