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

from okno.platform import database

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


SELECT = """
SELECT d.id AS document_id, d.slug, d.kind, d.title, d.purpose_code, v.version, v.operator_name,
       v.operator_address, v.purpose_text, v.pd_list, v.actions_text, v.processor, v.term_text,
       v.withdrawal_text, v.body, v.rendered, v.sha256, v.published_at
FROM consent_document d JOIN consent_document_version v ON v.document_id = d.id
WHERE v.published_at IS NOT NULL
"""


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


async def current(slug: str) -> Version | None:
    async with database.acquire() as conn:
        row = await conn.fetchrow(f"{SELECT} AND d.slug = $1 ORDER BY v.version DESC LIMIT 1", slug)
    return _version(row) if row else None


async def get(slug: str, version: int) -> Version | None:
    async with database.acquire() as conn:
        return await get_of(conn, slug, version)


async def get_of(conn: asyncpg.Connection, slug: str, version: int) -> Version | None:
    """``get`` on the caller's connection (for code inside a transaction)."""
    row = await conn.fetchrow(f"{SELECT} AND d.slug = $1 AND v.version = $2", slug, version)
    return _version(row) if row else None


async def current_for_purpose(purpose_code: str) -> Version | None:
    async with database.acquire() as conn:
        row = await conn.fetchrow(
            f"{SELECT} AND d.purpose_code = $1 ORDER BY v.version DESC LIMIT 1", purpose_code
        )
    return _version(row) if row else None


async def all_current() -> list[Version]:
    """The latest published version of every document."""
    async with database.acquire() as conn:
        rows = await conn.fetch(f"{SELECT} ORDER BY d.id, v.version DESC")
    latest: dict[int, Version] = {}
    for row in rows:
        latest.setdefault(row["document_id"], _version(row))
    return list(latest.values())


async def history(slug: str) -> list[Version]:
    async with database.acquire() as conn:
        rows = await conn.fetch(f"{SELECT} AND d.slug = $1 ORDER BY v.version DESC", slug)
    return [_version(row) for row in rows]


async def publish(slug: str, contents: Contents, staff_id: int | None) -> Version:
    """Publish the next version of a document; earlier versions stay as they were."""
    async with database.transaction():
        conn = database.connection()
        document = await conn.fetchrow(
            "SELECT id, kind, title FROM consent_document WHERE slug = $1 FOR UPDATE", slug
        )
        if document is None:
            raise LookupError(f"нет документа {slug}")
        version = 1 + (
            await conn.fetchval(
                "SELECT coalesce(max(version), 0) FROM consent_document_version"
                " WHERE document_id = $1",
                document["id"],
            )
        )
        rendered = render(document["kind"], document["title"], version, contents)
        await conn.execute(
            "INSERT INTO consent_document_version (document_id, version, operator_name,"
            " operator_address, purpose_text, pd_list, actions_text, processor, term_text,"
            " withdrawal_text, body, rendered, sha256, published_at, published_by)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, now(), $14)",
            document["id"],
            version,
            *(getattr(contents, name) for name in Contents.__struct_fields__),
            rendered,
            digest(rendered),
            staff_id,
        )
    published = await get(slug, version)
    assert published is not None
    return published
