"""Consent documents: versioned texts carrying the contents of 152-FZ Art. 9 p.4.

A published version is rendered once, hashed (SHA-256 of its UTF-8 text) and never changed:
the database refuses it. Publishing a new version leaves every earlier consent pointing at the
version the subject actually agreed to.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

import asyncpg
import msgspec
from piccolo.query.functions.aggregate import Max

from okno.platform import database
from okno.platform.consent import queries
from okno.platform.consent.tables import ConsentDocument, ConsentDocumentVersion
from okno.platform.errors import NotFound

KIND_LABELS = {
    "policy": "Политика обработки персональных данных",
    "processing": "Согласие на обработку персональных данных",
    "advertising": "Согласие на получение рекламы",
    "dissemination": "Согласие на распространение персональных данных",
}


class Contents(msgspec.Struct, frozen=True, kw_only=True):
    """What Art. 9 p.4 asks a consent text to say; also the sections of the policy."""

    operator_name: str
    operator_address: str
    purpose_text: str
    pd_list: str
    actions_text: str
    processor: str = ""
    term_text: str
    withdrawal_text: str
    body: str = ""


class Version(msgspec.Struct, frozen=True):
    document_id: int
    slug: str
    kind: str
    title: str
    purpose_code: str | None
    version: int
    contents: Contents
    rendered: str
    sha256: str
    published_at: datetime

    @property
    def url(self) -> str:
        return "/policy" if self.kind == "policy" else f"/consents/{self.slug}/v{self.version}"

    @property
    def stable_url(self) -> str:
        return f"/consents/{self.slug}/v{self.version}"


def render(kind: str, title: str, version: int, contents: Contents) -> str:
    processor = contents.processor.strip() or "не привлекается"
    if kind == "policy":
        sections = [
            f"1. Оператор: {contents.operator_name}, адрес: {contents.operator_address}.",
            f"2. Цели обработки: {contents.purpose_text}",
            f"3. Обрабатываемые персональные данные: {contents.pd_list}",
            f"4. Действия и способы обработки: {contents.actions_text}",
            f"5. Лица, обрабатывающие данные по поручению оператора: {processor}.",
            f"6. Сроки обработки и хранения: {contents.term_text}",
            f"7. Права субъекта и порядок отзыва согласия: {contents.withdrawal_text}",
        ]
        closing = (
            "Персональные данные хранятся и обрабатываются в базах данных"
            " на территории Российской Федерации."
        )
    else:
        sections = [
            "Я, субъект персональных данных, свободно, своей волей и в своём интересе даю"
            f" {contents.operator_name} (адрес: {contents.operator_address}) согласие на обработку"
            " моих персональных данных на следующих условиях.",
            f"1. Цель обработки: {contents.purpose_text}",
            f"2. Перечень персональных данных: {contents.pd_list}",
            f"3. Действия с персональными данными и способы обработки: {contents.actions_text}",
            f"4. Лицо, осуществляющее обработку по поручению оператора: {processor}.",
            f"5. Срок действия согласия: {contents.term_text}",
            f"6. Порядок отзыва согласия: {contents.withdrawal_text}",
        ]
        closing = (
            "Согласие даётся моим собственным действием: нажатием кнопки или отметкой в форме."
            " Оно не является условием получения услуги, не связанной с этой целью."
        )
    parts = [f"{title}", f"Редакция {version}.", *sections]
    if contents.body.strip():
        parts.append(contents.body.strip())
    parts.append(closing)
    return "\n\n".join(parts) + "\n"


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _version(row: asyncpg.Record) -> Version:
    contents = Contents(**{name: row[name] for name in Contents.__struct_fields__})
    return Version(
        row["document_id"],
        row["slug"],
        row["kind"],
        row["title"],
        row["purpose_code"],
        row["version"],
        contents,
        row["rendered"],
        row["sha256"],
        row["published_at"],
    )


async def _published(
    conn: asyncpg.Connection,
    *,
    slug: str | None = None,
    version: int | None = None,
    purpose_code: str | None = None,
    limit: int | None = None,
) -> list[Version]:
    """Published versions matching the filters given, newest version first."""
    rows = await conn.fetch(queries.PUBLISHED, slug, version, purpose_code, limit)
    return [_version(row) for row in rows]


def _first(found: list[Version]) -> Version | None:
    return found[0] if found else None


async def current(slug: str) -> Version | None:
    async with database.acquire() as conn:
        return _first(await _published(conn, slug=slug, limit=1))


async def get(slug: str, version: int) -> Version | None:
    async with database.acquire() as conn:
        return await get_of(conn, slug, version)


async def get_of(conn: asyncpg.Connection, slug: str, version: int) -> Version | None:
    """``get`` on the caller's connection (for code inside a transaction)."""
    return _first(await _published(conn, slug=slug, version=version))


async def current_for_purpose(purpose_code: str) -> Version | None:
    async with database.acquire() as conn:
        return _first(await _published(conn, purpose_code=purpose_code, limit=1))


async def all_current() -> list[Version]:
    """The latest published version of every document, in the documents' order."""
    async with database.acquire() as conn:
        found = await _published(conn)
    latest: dict[int, Version] = {}
    for version in found:
        latest.setdefault(version.document_id, version)
    return [latest[document_id] for document_id in sorted(latest)]


async def history(slug: str) -> list[Version]:
    async with database.acquire() as conn:
        return await _published(conn, slug=slug)


class WithHistory(msgspec.Struct, frozen=True):
    version: Version | None  # the one asked for (the current one unless a number was given)
    history: list[Version]  # every published version, newest first


async def with_history(slug: str, version: int | None = None) -> WithHistory:
    """A document's page: the version asked for, and all its versions."""
    found = await history(slug)
    if version is None:
        return WithHistory(_first(found), found)
    return WithHistory(next((v for v in found if v.version == version), None), found)


async def publish(slug: str, contents: Contents, staff_id: int | None) -> Version:
    """Publish the next version of a document; earlier versions stay as they were."""
    async with database.transaction():
        document = (
            await ConsentDocument.select(
                ConsentDocument.id, ConsentDocument.kind, ConsentDocument.title
            )
            .where(ConsentDocument.slug == slug)
            .lock_rows()
            .first()
            .run()
        )
        if document is None:
            raise NotFound("нет такого документа")
        latest = (
            await ConsentDocumentVersion.select(Max(ConsentDocumentVersion.version))
            .where(ConsentDocumentVersion.document_id == document["id"])
            .first()
            .run()
        )
        version = 1 + ((latest or {}).get("max") or 0)
        rendered = render(document["kind"], document["title"], version, contents)
        await ConsentDocumentVersion.insert(
            ConsentDocumentVersion(
                document_id=document["id"],
                version=version,
                **{name: getattr(contents, name) for name in Contents.__struct_fields__},
                rendered=rendered,
                sha256=digest(rendered),
                published_at=database.NOW,
                published_by=staff_id,
            )
        ).run()
    published = await get(slug, version)
    assert published is not None
    return published
