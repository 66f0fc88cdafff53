"""The home page, the health checks and the metrics."""

from __future__ import annotations

import hmac
import ipaddress

import msgspec
from litestar import Controller, Response, get
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.handlers import BaseRouteHandler
from litestar.response import Template
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE

from okno.platform import health
from okno.platform.settings import get_settings
from okno.platform.web.access import PUBLIC


class Alive(msgspec.Struct, frozen=True):
    status: str  # ok


class Ready(msgspec.Struct, frozen=True):
    status: str  # ok, unavailable
    database: str  # ok, unreachable
    migrations: str  # applied, pending, unknown (the database did not answer)


async def metrics_reader(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Admits a scraper: the bearer token of OKNO_METRICS_TOKEN and an address of
    OKNO_METRICS_ALLOW, whichever of the two are set; with neither set, /metrics is off (404)."""
    settings = get_settings()
    allowed = settings.metrics_networks
    if settings.metrics_token is None and not allowed:
        raise NotFoundException()
    if allowed:
        host = connection.client.host if connection.client else ""
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            raise NotFoundException() from None
        if not any(address in network for network in allowed):
            raise NotFoundException()
    if settings.metrics_token is not None:
        scheme, _space, token = connection.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            token.strip().encode(), settings.metrics_token.encode()
        ):
            raise NotAuthorizedException("нужен токен метрик (Authorization: Bearer …)")


metrics_reader.access = "metrics"  # type: ignore[attr-defined]


class PagesController(Controller):
    @get("/", opt=PUBLIC, include_in_schema=False)
    async def home(self) -> Template:
        """Links to the chat, the subject's portal and the staff login."""
        return Template("home.html")

    @get("/healthz", opt=PUBLIC, tags=["service"])
    async def healthz(self) -> Alive:
        """200 while the process answers requests (liveness; the database is /readyz's)."""
        return Alive("ok")

    @get("/readyz", opt=PUBLIC, tags=["service"])
    async def readyz(self) -> Response[Ready]:
        """200 when the database answers and has every migration; 503 otherwise."""
        answers, migrated = await health.readiness()
        if not answers:
            return Response(
                Ready("unavailable", "unreachable", "unknown"),
                status_code=HTTP_503_SERVICE_UNAVAILABLE,
            )
        if not migrated:
            return Response(
                Ready("unavailable", "ok", "pending"), status_code=HTTP_503_SERVICE_UNAVAILABLE
            )
        return Response(Ready("ok", "ok", "applied"))

    @get(
        "/metrics",
        guards=[metrics_reader],
        include_in_schema=False,
        media_type="text/plain; version=0.0.4; charset=utf-8",
    )
    async def metrics(self) -> str:
        """This worker's metrics in Prometheus' text format."""
        return await health.scrape()
