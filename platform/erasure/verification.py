"""Proof that destruction left nothing: the values are collected before, and searched for after.

Before the erasers run, ``collect`` gathers the subject's values (profile fields, message texts,
attachment names, the identifying details of their requests) and the SHA-256 of their files.
After, ``check`` searches every text, JSON and array column of every table for each value, and
the data folder's files for the values and the storage's for the digests.

A value that also occurs outside the subject's own rows before destruction (an operator's
greeting every client gets, a city in the operator's address) cannot prove anything globally;
it is checked inside the subject's own rows (every row with their ``subject_id``, their
conversation's ``conversation_id`` or their requests' ``request_id``). Every other value must
be found nowhere at all.

okno's own vocabulary is never a value: the field names and flags in a request's details are
not collected (``VOCABULARY_KEYS``), and a value that a column declared as never holding one
contains (a comment «проверки» inside a log row's fixed «блокирование на время проверки…») is
treated as shared, and shared values are not looked for in those columns. Otherwise a request
that names a field, or a one-word comment, would make destruction impossible for ever.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import msgspec

from okno.platform import storage
from okno.platform.chat.erasure import TOMBSTONE
from okno.platform.erasure import queries
from okno.platform.erasure.files import Doomed
from okno.platform.erasure.registry import COLUMNS, REDACTED, SCRUBBED
from okno.platform.settings import get_settings
from okno.platform.storage import StoredFile
from okno.platform.subjects.fields import FIELDS

SEARCHED_TYPES = ("text", "character varying", "character", "jsonb", "json", "ARRAY", "bytea")
MIN_LENGTH = 4  # shorter values ("да", "чат") prove nothing and are skipped
MAX_FILE_BYTES = 64 * 1024 * 1024
# Texts the erasers leave behind: a destroyed value that is part of one is checked elsewhere.
NEUTRAL = (TOMBSTONE, REDACTED)
# Keys of a request's details that name things rather than hold the subject's values: the
# field a correction, blocking or destruction is about (``field``, ``fields``), ids of events
# and consents, flags. Everything else there (comments, new values, letters' texts) is PD.
VOCABULARY_KEYS = frozenset(
    {
        "field",
        "fields",
        "scope",
        "withdrawal_event",
        "consent",
        "previous_answer_incomplete",
        "superseded",
    }
)


class DestructionIncompleteError(RuntimeError):
    """PD of a destroyed subject are still found; the message names where, never the values."""


@dataclass
class Footprint:
    """The subject's own rows, by the columns that tie a row to them."""

    subject_id: uuid.UUID
    conversations: list[int] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)


@dataclass
class Evidence:
    """What destruction must leave nowhere: values (with what they were) and file digests."""

    values: dict[str, str] = field(default_factory=dict)  # value -> kind (a field name)
    digests: dict[str, int] = field(default_factory=dict)  # sha256 -> size
    distinctive: set[str] = field(default_factory=set)

    def add(self, value: str | None, kind: str) -> None:
        if value is None:
            return
        value = value.strip()
        if len(value) >= MIN_LENGTH and not any(value in text for text in NEUTRAL):
            self.values.setdefault(value, kind)


@dataclass(frozen=True)
class Report:
    tables: int
    values: int
    files: int
    found: tuple[str, ...] = ()

    @property
    def clean(self) -> bool:
        return not self.found

    def as_dict(self) -> dict[str, Any]:
        return {
            "tables_searched": self.tables,
            "values_searched": self.values,
            "files_searched": self.files,
            "result": "значения не найдены" if self.clean else "найдены остатки",
        }


async def footprint(conn: asyncpg.Connection, subject_id: uuid.UUID) -> Footprint:
    conversations = await conn.fetch(queries.CONVERSATIONS_OF, subject_id)
    requests = await conn.fetch(queries.REQUESTS_OF, subject_id)
    return Footprint(
        subject_id, [row["id"] for row in conversations], [row["id"] for row in requests]
    )


def strings(value: Any) -> list[str]:
    """Every string in a JSON-like value, nested ones too."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in strings(item)]
    return []


def request_values(document: dict[str, Any]) -> list[str]:
    """The subject's values in a request's ``details`` or ``requester``: every string but okno's
    own vocabulary (the name of a field the request is about, «all», ids and flags), which is
    not PD and also sits, legitimately, in the append-only processing log."""
    found = []
    for key, value in document.items():
        if key in VOCABULARY_KEYS:
            continue
        found += [text for text in strings(value) if text not in FIELDS and text != "all"]
    return found


async def collect(
    conn: asyncpg.Connection,
    where: Footprint,
    *,
    fields: tuple[str, ...] | None = None,
    before: datetime | None = None,
) -> Evidence:
    """The values to look for afterwards: all the subject's, only ``fields`` of the profile, or
    (``before``) the texts and files of the messages written before that moment."""
    evidence = Evidence()
    if before is not None:
        return await _collect_messages(conn, where, before)
    chosen = list(fields) if fields is not None else None
    for row in await conn.fetch(queries.PROFILE_VALUES, where.subject_id, chosen):
        evidence.add(row["value"], row["field"])
    if fields is None:
        for row in await conn.fetch(queries.MESSAGE_BODIES, where.conversations):
            evidence.add(row["body"], "message_text")
        for row in await conn.fetch(queries.ATTACHMENT_FILES, where.conversations):
            evidence.add(row["name"], "attachment")
            await _digest(evidence, row["path"])
        for row in await conn.fetch(queries.REQUEST_TEXTS, where.subject_id):
            for raw in (row["requester"], row["details"]):
                for text in request_values(msgspec.json.decode(raw)):
                    evidence.add(text, "request_details")
        for row in await conn.fetch(queries.CONVERSATION_TAGS, where.conversations):
            evidence.add(row["tag"], "tags")
        for row in await conn.fetch(queries.REVIEW_BODIES, where.subject_id):
            evidence.add(row["body"], "review_text")
    if evidence.values:
        # Shared free texts are scrubbed of the values by a full destruction: a value there
        # does not make it shared.
        outside = await _search(
            conn, list(evidence.values), where, mode="outside", skip_scrubbed=fields is None
        )
        evidence.distinctive = set(evidence.values) - {value for value, _ in outside}
        evidence.distinctive -= await _in_wording(conn, evidence.distinctive, where)
    return evidence


async def _collect_messages(
    conn: asyncpg.Connection, where: Footprint, before: datetime
) -> Evidence:
    """Old messages' texts and files; a text that a newer message repeats stays in that one and
    is not looked for."""
    evidence = Evidence()
    rows = await conn.fetch(queries.MESSAGES_AGED, where.conversations, before)
    kept = [row["body"] for row in rows if not row["old"]]
    for row in rows:
        if not row["old"]:
            continue
        if not any(row["body"].strip() in body for body in kept):
            evidence.add(row["body"], "message_text")
        if row["name"]:
            evidence.add(row["name"], "attachment")
        await _digest(evidence, row["path"])
    if evidence.values:
        outside = await _search(conn, list(evidence.values), where, mode="outside")
        evidence.distinctive = set(evidence.values) - {value for value, _ in outside}
        evidence.distinctive -= await _in_wording(conn, evidence.distinctive, where)
    return evidence


async def _digest(evidence: Evidence, key: str | None) -> None:
    """The SHA-256 of an attachment's file, to find its copies after (by size, then digest)."""
    data = await asyncio.to_thread(storage.files().read, key) if key else None
    if data is not None:
        evidence.digests[hashlib.sha256(data).hexdigest()] = len(data)


async def _columns(conn: asyncpg.Connection) -> dict[str, list[tuple[str, str]]]:
    rows = await conn.fetch(queries.SEARCHED_COLUMNS)
    tables: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        tables.setdefault(row["table_name"], [])
        if row["data_type"] in SEARCHED_TYPES:
            tables[row["table_name"]].append((row["column_name"], row["data_type"]))
    return tables


async def _in_wording(conn: asyncpg.Connection, values: set[str], where: Footprint) -> set[str]:
    """Values that okno's own wording contains (a comment «проверки» is part of a log row's
    «блокирование на время проверки…»): found in a column declared as never holding a value,
    they are words, not proof of anything; they are checked like shared values."""
    found = await _search(conn, sorted(values), where, mode="all", only_not_pd=True)
    return {value for value, _ in found}


def _not_pd(column: str) -> bool:
    return COLUMNS.get(column, "").startswith("not PD:")


async def _search(
    conn: asyncpg.Connection,
    values: list[str],
    where: Footprint,
    *,
    mode: str,
    skip_scrubbed: bool = False,
    only_not_pd: bool = False,
) -> list[tuple[str, str]]:
    """(value, "table.column") for each value found: everywhere, inside or outside the
    subject's own rows. JSON columns are searched for the value as JSON spells it too."""
    if not values:
        return []
    forms: list[str] = []
    owners: list[int] = []
    for index, value in enumerate(values):
        for form in {value, msgspec.json.encode(value).decode()[1:-1]}:
            forms.append(form)
            owners.append(index)
    tables = await _columns(conn)
    all_columns = await conn.fetch(queries.ALL_COLUMNS)
    keys: dict[str, set[str]] = {}
    for row in all_columns:
        keys.setdefault(row["table_name"], set()).add(row["column_name"])
    found: list[tuple[str, str]] = []
    for table, columns in tables.items():
        if not columns:
            continue
        own = [test for key, test in queries.OWN_ROWS.items() if key in keys[table]]
        if mode == "inside" and (not own or table == "destruction_act"):
            # Acts are made of labels and counts; a shared word ("заказ") in one proves nothing.
            continue
        mine = "(" + " OR ".join(own) + ")" if own else "false"
        scope = queries.SEARCH_SCOPES[mode].format(mine=mine)
        for column, data_type in columns:
            name = f"{table}.{column}"
            if skip_scrubbed and name in SCRUBBED:
                continue
            if only_not_pd and not _not_pd(name):
                continue
            if mode == "inside" and _not_pd(name):
                continue  # shared words in okno's own wording (log reasons, labels) prove nothing
            matching = queries.SEARCH_BYTES if data_type == "bytea" else queries.SEARCH_TEXT
            match = matching.format(column=queries.quote(column))
            hits = await conn.fetch(
                queries.search(table, scope, match),
                forms,
                where.subject_id,
                where.conversations,
                where.requests,
            )
            for hit in hits:
                found.append((values[owners[hit["i"] - 1]], f"{table}.{column}"))
    return found


def _files(uploads: Path | None) -> list[Path]:
    """The data folder's files but its database and the attachments (searched on their own)."""
    root = get_settings().data_path
    if not root.is_dir():
        return []
    return [
        path
        for path in root.rglob("*")
        if path.is_file()
        and "postgres" not in path.relative_to(root).parts[:1]
        and (uploads is None or path.resolve().parent != uploads)
    ]


def _scan_files(
    evidence: Evidence, distinctive: list[str], leaving: set[Doomed], kept: set[str]
) -> tuple[int, list[str]]:
    """Attachments (in the storage: a folder or a bucket) are compared by size, then SHA-256,
    with the destroyed files (other clients' uploads are theirs, whatever they contain); every
    other file of the data folder (outbox, exports) is searched for the values too."""
    store = storage.files()
    uploads = store.folder()
    uploads = uploads.resolve() if uploads is not None else None
    sizes = set(evidence.digests.values())
    encoded = [value.encode() for value in distinctive]
    problems = []
    stored = [
        (key, size)
        for key, size in store.sizes()
        if StoredFile(key) not in leaving and key not in kept
    ]
    for key, size in stored:
        data = store.read(key) if size in sizes else None
        if data is not None and hashlib.sha256(data).hexdigest() in evidence.digests:
            problems.append(f"вложение в файле {key}")
    files = [path for path in _files(uploads) if path.resolve() not in leaving]
    for path in files:
        size = path.stat().st_size
        if size in sizes and hashlib.sha256(path.read_bytes()).hexdigest() in evidence.digests:
            problems.append(f"вложение в файле {path.name}")
        elif size <= MAX_FILE_BYTES and encoded:
            data = path.read_bytes()
            if any(value in data for value in encoded):
                problems.append(f"значение в файле {path.name}")
    return len(files) + len(stored), problems


async def check(
    conn: asyncpg.Connection,
    where: Footprint,
    evidence: Evidence,
    *,
    leaving: list[Doomed] | None = None,
) -> Report:
    """Search the database and the data folder (but the files ``leaving``: deleted at commit);
    the report names what remains, never the values."""
    tables = len(await _columns(conn))
    distinctive = sorted(evidence.distinctive)
    shared = sorted(set(evidence.values) - evidence.distinctive)
    found = await _search(conn, distinctive, where, mode="all")
    found += await _search(conn, shared, where, mode="inside")
    problems = sorted({f"{evidence.values[value]} в {place}" for value, place in found})
    gone = {item.resolve() if isinstance(item, Path) else item for item in leaving or ()}
    kept = {row["path"] for row in await conn.fetch(queries.KEPT_ATTACHMENT_FILES)}
    files, in_files = await asyncio.to_thread(_scan_files, evidence, distinctive, gone, kept)
    problems += in_files
    return Report(tables, len(evidence.values), files, tuple(problems))
