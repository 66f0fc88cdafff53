"""Mailings console (supervisor, admin): compose, preview the audience, schedule, report."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import FromPath, MultipartBody, URLEncodedBody
from litestar.response import Redirect, Template

from okno.platform.chat import attachments
from okno.platform.mailings import console
from okno.platform.mailings import service as mailings
from okno.platform.staff.roles import Role
from okno.platform.web.access import current_staff, staff
from okno.platform.web.timefmt import MOSCOW

TAG = re.compile(r"^[a-zа-яё0-9_-]{1,30}$")
STATUS_LABELS = {
    "draft": "черновик",
    "scheduled": "запланирована",
    "sending": "отправляется",
    "sent": "отправлена",
    "cancelled": "отменена",
}


class MailingForm(msgspec.Struct):
    title: str = ""
    body: str = ""
    topics: list[str] | str = msgspec.field(default_factory=list)
    tags: str = ""
    contacted_within_days: str = ""
    email: str = ""
    link_label: str = ""
    link_url: str = ""
    image: UploadFile | None = None


class ScheduleForm(msgspec.Struct):
    send_at: str = ""


def _audience(form: MailingForm) -> mailings.Audience:
    topics = [form.topics] if isinstance(form.topics, str) else list(form.topics)
    tags = [t.strip().lower() for t in form.tags.replace(",", " ").split() if t.strip()]
    if any(not TAG.fullmatch(t) for t in tags) or len(tags) > 10:
        raise ClientException("метки: до 10 слов из букв, цифр, дефиса")
    days = form.contacted_within_days.strip()
    if days and not (days.isdigit() and 1 <= int(days) <= 3650):
        raise ClientException("период последнего обращения: от 1 до 3650 дней")
    return mailings.Audience(
        topics=tuple(t for t in topics if t),
        tags=tuple(tags),
        contacted_within_days=int(days) if days else None,
        email=form.email == "on",
    )


def _links(form: MailingForm) -> list[dict[str, str]]:
    if not form.link_label.strip() and not form.link_url.strip():
        return []
    if not form.link_url.startswith(("https://", "http://", "/")) or len(form.link_url) > 500:
        raise ClientException("ссылка кнопки: адрес, начинающийся с https:// или /")
    return [{"label": form.link_label.strip()[:60] or "Подробнее", "url": form.link_url.strip()}]


class MailingsConsole(Controller):
    path = "/admin/mailings"
    guards = (staff(Role.SUPERVISOR, Role.ADMIN),)
    include_in_schema = False

    @get("/")
    async def index(self, request: Request) -> Template:
        found = await console.overview()
        return Template(
            "admin/mailings.html",
            context={
                "user": await current_staff(request),
                "mailings": found.mailings,
                "topics": found.topics,
                "labels": STATUS_LABELS,
            },
        )

    @post("/")
    async def compose(self, request: Request, data: MultipartBody[MailingForm]) -> Redirect:
        """Save a draft; the next page shows who it will reach and who is excluded, and why."""
        user = await current_staff(request)
        assert user is not None
        title, body = data.title.strip(), data.body.strip()
        if not (1 <= len(title) <= 200 and 1 <= len(body) <= 4000):
            raise ClientException("нужны заголовок (до 200 знаков) и текст (до 4000)")
        image_id = None
        if data.image is not None and data.image.filename:
            stored = await attachments.store(
                await data.image.read(), data.image.filename, "staff", str(user.id)
            )
            if not stored.image:
                raise ClientException("картинка: PNG, JPEG, GIF или WebP")
            image_id = stored.id
        mailing_id = await mailings.create(
            user.id, title, body, _audience(data), _links(data), image_id
        )
        return Redirect(f"/admin/mailings/{mailing_id}", status_code=303)

    @get("/{mailing_id:int}")
    async def show(self, request: Request, mailing_id: FromPath[int]) -> Template:
        found = await console.details(mailing_id)
        if found is None:
            raise NotFoundException("нет такой рассылки")
        return Template(
            "admin/mailing.html",
            context={
                "user": await current_staff(request),
                "mailing": found.mailing,
                "links": found.links,
                "preview": found.preview,
                "report": found.report,
                "failures": found.failures,
                "labels": STATUS_LABELS,
            },
        )

    @post("/{mailing_id:int}/schedule")
    async def schedule(
        self, mailing_id: FromPath[int], data: URLEncodedBody[ScheduleForm]
    ) -> Redirect:
        """Send now, or at a Moscow time (``send_at`` as YYYY-MM-DDTHH:MM)."""
        await _mailing(mailing_id)
        at = None
        if data.send_at.strip():
            try:
                at = datetime.fromisoformat(data.send_at.strip()).replace(tzinfo=MOSCOW)
            except ValueError:
                raise ClientException("время отправки: ГГГГ-ММ-ДДTЧЧ:ММ") from None
        await mailings.schedule(mailing_id, at)
        return Redirect(f"/admin/mailings/{mailing_id}", status_code=303)

    @post("/{mailing_id:int}/cancel")
    async def cancel(self, mailing_id: FromPath[int]) -> Redirect:
        await _mailing(mailing_id)
        await mailings.cancel(mailing_id)
        return Redirect(f"/admin/mailings/{mailing_id}", status_code=303)


async def _mailing(mailing_id: int) -> dict[str, Any]:
    found = await console.get(mailing_id)
    if found is None:
        raise NotFoundException("нет такой рассылки")
    return found
