"""The one Litestar app factory: every area's routes, templates, static files and lifespan.

The composition root: the one platform module that imports the web areas (tests/test_layout.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from litestar import Litestar, Router
from litestar.exceptions import HTTPException
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from okno.admin.routes import route_handlers as admin_routes
from okno.platform import database, logs, storage
from okno.platform.chat.hub import Hub
from okno.platform.consent.defaults import operator_warnings
from okno.platform.consent.service import how_given
from okno.platform.erasure.retention import job as retention_job
from okno.platform.erasure.verification import DestructionIncompleteError
from okno.platform.errors import Refused
from okno.platform.jobs import background_jobs
from okno.platform.processing_log.actions import actor_label, basis_label
from okno.platform.secret_key import secret_key
from okno.platform.settings import Settings, get_settings
from okno.platform.staff.roles import role_label
from okno.platform.subjects.fields import field_label
from okno.platform.web import errors, security
from okno.platform.web.access import ANY_STAFF, staff
from okno.platform.web.attachments import AttachmentFiles
from okno.platform.web.pages import PagesController
from okno.platform.web.security import secure_cookies
from okno.platform.web.timefmt import msk
from okno.portal.routes import route_handlers as portal_routes

ROOT = Path(__file__).resolve().parent.parent
# Where each area keeps its ``static/`` and ``templates/``: platform/web/ holds what both web
# areas use (the base stylesheet and page, the shared scripts), served as /static/web/...
AREAS = (ROOT / "platform" / "web", ROOT / "admin", ROOT / "portal")


def upload_body_limit() -> int:
    """The body limit of the routes that take a chat attachment: the file and its form."""
    return get_settings().max_upload_bytes + 65536


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await database.start_pool(settings.db_pool_size)
        # A bucket's client loads its service models for seconds: at start, not in an upload.
        await asyncio.to_thread(storage.files)
        app.state.hub = Hub()
        await app.state.hub.start()
        stop = asyncio.Event()
        jobs = [asyncio.create_task(job(stop)) for job in background_jobs()]
        jobs.append(asyncio.create_task(retention_job(stop)))  # docs/dpo.md
        try:
            yield
        finally:
            stop.set()
            await asyncio.gather(*jobs, return_exceptions=True)
            await app.state.hub.stop()
            await database.close_pool()

    def configure_templates(engine: JinjaTemplateEngine) -> None:
        engine.engine.filters["msk"] = msk
        engine.engine.globals["operator_warnings"] = operator_warnings
        # Codes kept in rows, shown in words (docs/ui.md, «Никаких кодов на экране»).
        engine.engine.globals["role_label"] = role_label
        engine.engine.globals["actor_label"] = actor_label
        engine.engine.globals["basis_label"] = basis_label
        engine.engine.filters["field_label"] = field_label
        engine.engine.globals["how_given"] = how_given

    secret = secret_key(settings)
    logs.configure(settings.log_level, settings.log_format)
    app = Litestar(
        route_handlers=[
            PagesController,
            AttachmentFiles,
            *admin_routes,
            *portal_routes,
            create_static_files_router(
                path="/static",
                directories=[area / "static" for area in AREAS],
                opt={"access": "public"},
                include_in_schema=False,
            ),
        ],
        lifespan=[lifespan],
        middleware=[security.csrf(secret, secure_cookies(settings))],
        template_config=TemplateConfig(
            directory=[area / "templates" for area in AREAS],
            engine=JinjaTemplateEngine,
            engine_callback=configure_templates,
        ),
        # JSON only: the interactive viewers Litestar offers load scripts from a CDN. Staff
        # only: the schema maps the staff API, which is nobody else's business.
        openapi_config=OpenAPIConfig(
            title="okno",
            version="0.1.0",
            render_plugins=[JsonRenderPlugin(path="/openapi.json")],
            # /api/v1 takes an admin's API token (docs/api.md); the console's routes, the
            # staff session's cookie and its CSRF header.
            components=Components(
                security_schemes={
                    "apiToken": SecurityScheme(
                        type="http",
                        scheme="bearer",
                        description="Authorization: Bearer okno_… (API-токены в консоли)",
                    )
                }
            ),
            openapi_router=Router(
                path="/schema",
                route_handlers=[],
                guards=[staff(*ANY_STAFF)],
                include_in_schema=False,
            ),
        ),
        exception_handlers={
            HTTPException: errors.http_error,
            Refused: errors.refused,
            DestructionIncompleteError: errors.destruction_incomplete,
            asyncpg.DataError: errors.data_error,
            **dict.fromkeys(database.UNAVAILABLE, errors.database_unavailable),
            Exception: errors.server_error,
        },
        # Uploads declare their own, larger limit (upload_body_limit); every other route this.
        request_max_body_size=settings.max_request_bytes,
        debug=False,
    )
    app.state.csrf_secret = secret
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if handler.opt.get("upload"):
                handler.request_max_body_size = upload_body_limit()
    # Outermost, so Litestar's own 404 and 405 answers and the sockets pass through it too.
    app.asgi_handler = security.edge(
        app.asgi_handler,
        https=(settings.public_url or "").startswith("https://"),
        prefixed=secure_cookies(settings),
    )
    document_errors(app)
    return app


def document_errors(app: Litestar) -> None:
    """Every API route may answer with the common errors; the schema says so, and how they look."""
    for route in app.routes:
        if route.path.startswith("/schema"):
            continue  # Litestar's own schema pages answer in their own way
        for handler in getattr(route, "route_handlers", ()):
            if isinstance(handler, HTTPRouteHandler) and handler.include_in_schema:
                handler.responses = {**errors.ERROR_RESPONSES, **(handler.responses or {})}
