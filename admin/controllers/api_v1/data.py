"""``/api/v1``: a client's fields and consent events, rights requests, mailings, reports' figures
(docs/api.md)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from litestar import Controller, Request, get
from litestar.params import FromPath, FromQuery, QueryParameter

from okno.platform.apitokens import reads
from okno.platform.apitokens.reads import (
    ConsentEvents,
    MailingPage,
    RequestPage,
    RequestStatus,
    SubjectFields,
)
from okno.platform.reports import service as reports
from okno.platform.reports.schemas import CHANNELS, Dimension, Filters, Report
from okno.platform.web.access import api_client, api_token

# Query parameters: Litestar checks its own Parameter's bounds there (not msgspec.Meta's).
Limit = Annotated[int, QueryParameter(ge=1, le=200)]
Cursor = Annotated[int, QueryParameter(ge=0, le=2**62)]
Id = Annotated[int, QueryParameter(ge=1, le=2**62)]
RequestState = Literal[
    "received", "identity_check", "review", "approved", "refused", "executing", "done"
]


class SubjectsApi(Controller):
    path = "/api/v1/subjects"
    tags = ("API v1: clients",)
    security = [{"apiToken": []}]  # noqa: RUF012 — Litestar reads it as a class attribute

    @get("/{subject_id:uuid}", guards=[api_token("subjects:read")])
    async def fields(self, request: Request, subject_id: FromPath[uuid.UUID]) -> SubjectFields:
        """The client's fields the token's purpose names, while the client's consent to that
        purpose is in force (refused otherwise); logged as provision."""
        return await reads.subject_fields(api_client(request), subject_id)

    @get("/{subject_id:uuid}/consents", guards=[api_token("consent:read")])
    async def consents(self, request: Request, subject_id: FromPath[uuid.UUID]) -> ConsentEvents:
        """The client's consent events with their proof (document, version, hash, address,
        browser), oldest first; logged as provision."""
        return await reads.consent_events(api_client(request), subject_id)


class RightsApi(Controller):
    path = "/api/v1/rights-requests"
    tags = ("API v1: rights requests",)
    security = [{"apiToken": []}]  # noqa: RUF012 — Litestar reads it as a class attribute
    guards = (api_token("rights:read"),)

    @get("/")
    async def list_requests(
        self,
        after: FromQuery[Cursor] = 0,
        limit: FromQuery[Limit] = 50,
        status: FromQuery[RequestState | None] = None,
    ) -> RequestPage:
        """Requests of subjects (access, correction, withdrawal, destruction…) by id after the
        cursor: kind, status and deadline, never the requester's details."""
        return await reads.rights_requests(after, limit, status)

    @get("/{request_id:int}")
    async def read(self, request_id: FromPath[int]) -> RequestStatus:
        """One request's status and deadline."""
        return await reads.rights_request(request_id)


class MailingsApi(Controller):
    path = "/api/v1/mailings"
    tags = ("API v1: mailings",)
    security = [{"apiToken": []}]  # noqa: RUF012 — Litestar reads it as a class attribute
    guards = (api_token("mailings:read"),)

    @get("/")
    async def list_mailings(
        self, after: FromQuery[Cursor] = 0, limit: FromQuery[Limit] = 50
    ) -> MailingPage:
        """Mailings by id after the cursor, each with its figures (delivered, read, failed…)."""
        return await reads.mailings(after, limit)


class ReportsApi(Controller):
    path = "/api/v1/reports"
    tags = ("API v1: reports",)
    security = [{"apiToken": []}]  # noqa: RUF012 — Litestar reads it as a class attribute
    guards = (api_token("reports:read"),)

    @get("/")
    async def figures(
        self,
        start: FromQuery[date | None] = None,
        end: FromQuery[date | None] = None,
        team: FromQuery[Id | None] = None,
        topic: FromQuery[Id | None] = None,
        operator: FromQuery[Id | None] = None,
        channel: FromQuery[str | None] = None,
        by: FromQuery[Dimension] = "team",
    ) -> Report:
        """The figures of the supervisors' report over a period (docs/reports.md): aggregates by
        team, topic, operator and channel, never a client's data, so nothing is logged."""
        if channel is not None and channel not in CHANNELS:
            raise reports.ReportError("нет такого канала: " + ", ".join(CHANNELS))
        first, last = reports.default_days()
        return await reports.report(
            Filters(
                start=start or first,
                end=end or last,
                team_id=team,
                topic_id=topic,
                staff_id=operator,
                channel=channel,
                dimension=by,
            )
        )
