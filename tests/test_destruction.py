"""Destruction leaves nothing: a full dump of the database and the data folder hold none of the
subject's values afterwards, other subjects are intact, and the act holds what Order 179 asks."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import subprocess
import uuid
from pathlib import Path

import asyncpg
import pytest

from okno.platform import database, migrate, storage
from okno.platform.erasure import acts, destruction, verification
from okno.platform.processing_log import service as processing_log
from okno.platform.rights import handling, requests
from okno.platform.rights.deadlines import RequestKind
from okno.platform.staff.roles import Role
from tests.chat_support import Client, Staff, subject_of
from tests.conftest import csrf_from, owner_connection
from tests.test_consent import offer_and_accept

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
async def dpo(make_staff):
    return await make_staff(Role.DPO)


def names() -> dict[str, str]:
    """Distinctive values for one person, so a dump can be searched for exactly them."""
    tag = secrets.token_hex(3)
    digits = "".join(str(int(c, 16) % 10) for c in secrets.token_hex(4))[:7]
    letters = "".join("абвгдеклмнопрстф"[int(c, 16)] for c in tag)
    return {
        "name": f"Ефросинья Тест{letters}",
        "phone": f"+7912{digits}",
        "email": f"person.{tag}@example.ru",
        "text": f"Мой заказ потерялся, номер посылки {tag}-{letters}",
        "reply": f"Ефросинья Тест{letters}, заказ найден на складе {tag}",
        "file": f"Паспорт {letters} {tag} — скан".encode(),
        "file_name": f"скан-{tag}.txt",
    }


async def fill(client: Client, supervisor: Staff, conversation: int, field: str, value: str):
    await supervisor.send(type="request_field", conversation=conversation, field=field)
    form = await client.message(author={"kind": "bot", "name": None}, wait=5)
    assert form["form"]["field"] == field, form
    await client.send(type="field", seq=form["seq"], value=value)
    await client.message(seq=form["seq"], wait=5)


async def upload(client: Client, name: str, data: bytes) -> str:
    async with client.http() as http:
        page = await http.get("/chat")
        response = await http.post(
            "/api/chat/attachments",
            files={"file": (name, data, "text/plain")},
            headers={"x-csrf-token": csrf_from(page.text), "accept": "application/json"},
        )
    assert response.status_code == 201, response.text
    return response.json()["id"]


class Person:
    def __init__(self, client: Client, conversation: int, subject: uuid.UUID, values: dict):
        self.client, self.conversation, self.subject, self.values = (
            client,
            conversation,
            subject,
            values,
        )


async def make_person(base_url: str, supervisor: Staff) -> Person:
    """A client who wrote, consented, gave name, phone and e-mail, and sent a file."""
    values = names()
    client = await Client.open(base_url)
    ack = await client.say(values["text"])
    conversation = ack["conversation"]
    await supervisor.open_conversation(conversation)
    await offer_and_accept(client, supervisor, conversation)
    for field in ("name", "phone", "email"):
        await fill(client, supervisor, conversation, field, values[field])
    attachment = await upload(client, values["file_name"], values["file"])
    await client.say("Вот скан", attachment=attachment)
    await supervisor.say(conversation, values["reply"])
    subject = uuid.UUID(await subject_of(conversation))
    return Person(client, conversation, subject, values)


def dump(url: str | None = None) -> str:
    """A plain-SQL dump of the suite's database (or ``url``), read as its owner: the server's
    role may not read every table."""
    url = url or os.environ["OKNO_MIGRATION_DATABASE_URL"]
    candidates = [
        ROOT / ".venv/lib/python3.11/site-packages/pgserver/pginstall/bin/pg_dump",
        Path(shutil.which("pg_dump") or "/nonexistent"),
    ]
    binary = next(str(path) for path in candidates if path.exists())
    result = subprocess.run(
        [binary, "--no-owner", "--inserts", "-d", url],
        capture_output=True,
        check=True,
        timeout=120,
    )
    return result.stdout.decode()


def dump_values(person: Person) -> dict[str, str]:
    v = person.values
    return {
        "name": v["name"],
        "phone": v["phone"],
        "email": v["email"],
        "text": v["text"],
        "reply": v["reply"],
        "file_name": v["file_name"],
    }


def files_with(data: bytes) -> list[Path]:
    digest = hashlib.sha256(data).hexdigest()
    return [
        path
        for path in storage.files().folder().iterdir()
        if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == digest
    ]


async def approved_request(person: Person, dpo, kind=RequestKind.DESTRUCTION) -> int:
    async with database.transaction():
        conn = database.connection()
        request = await requests.create(
            conn,
            subject_id=person.subject,
            kind=kind,
            channel="portal",
            details={"text": f"Прошу уничтожить мои данные. {person.values['name']}"},
            requester={"full_name": person.values["name"], "relation": "чат"},
        )
        for step in ("identity_check", "review", "approved"):
            await requests.transition(conn, request.id, step, dpo.id)
    return request.id


async def test_destruction_leaves_no_value_in_a_full_dump_and_spares_others(
    base_url, db, supervisor, dpo, database_url
) -> None:
    victim = await make_person(base_url, supervisor)
    other = await make_person(base_url, supervisor)
    before = dump()
    for value in (*dump_values(victim).values(), *dump_values(other).values()):
        assert value in before, value
    assert files_with(victim.values["file"])
    assert files_with(other.values["file"])

    request_id = await approved_request(victim, dpo)
    act = await handling.destroy(request_id, dpo, reference="вх. письмо от 20.11")

    after = dump()
    for kind, value in dump_values(victim).items():
        assert value not in after, f"{kind} is still in the dump"
    for kind, value in dump_values(other).items():
        assert value in after, f"another subject's {kind} is gone"
    assert files_with(victim.values["file"]) == []
    assert files_with(other.values["file"]), "another subject's file is gone"

    async with database.acquire() as conn:
        kept = await conn.fetchrow(
            "SELECT count(*) AS messages, count(*) FILTER (WHERE body = $2) AS tombstones"
            " FROM message WHERE conversation_id = $1",
            victim.conversation,
            "Сообщение удалено: персональные данные уничтожены по закону",
        )
        subject = await conn.fetchrow(
            "SELECT destroyed_at FROM subject WHERE id = $1", victim.subject
        )
        request = await requests.get(conn, request_id)
        logged = await conn.fetch(
            "SELECT action, fields, request_id FROM processing_log WHERE subject_id = $1"
            " AND action = 'destruction'",
            victim.subject,
        )
        chain = await processing_log.verify(conn)
    assert kept["messages"] >= 6
    assert kept["tombstones"] >= 3
    assert subject["destroyed_at"] is not None
    assert request.status == "done"
    assert f"№ {act.id}" in request.answer
    assert [(r["action"], r["request_id"]) for r in logged] == [("destruction", request_id)]
    assert {"name", "phone", "email", "message_text", "attachment"} <= set(logged[0]["fields"])
    assert chain.ok

    # The client's open chat got the tombstones; their session is gone.
    tomb = await victim.client.message(
        text="Сообщение удалено: персональные данные уничтожены по закону"
    )
    assert tomb["author"]["kind"] == "subject"
    await victim.client.close()
    await other.client.close()


async def test_the_act_and_extract_hold_every_field_of_order_179(
    base_url, db, supervisor, dpo
) -> None:
    person = await make_person(base_url, supervisor)
    request_id = await approved_request(person, dpo)
    act = await handling.destroy(request_id, dpo, reference="вх. № 17 от 20.11.2026")
    body, extract = act.act, act.extract
    assert body["operator"]["name"]
    assert body["operator"]["address"]
    assert "processor" in body  # (b): null when none is engaged
    assert body["subject"]["id"] == str(person.subject)  # (c)
    assert body["subject"]["reference"] == "вх. № 17 от 20.11.2026"
    assert body["subject"]["conversation"] == f"Клиент #{person.conversation}"
    assert body["destroyed_by"][0]["name"] == dpo.display_name  # (d)
    assert body["destroyed_by"][0]["position"] == "ответственный за обработку ПДн"
    assert body["signature"]["account"] == dpo.login
    assert {c["field"] for c in body["categories"]} >= {
        "name",
        "phone",
        "email",
        "message_text",
    }  # (e)
    assert body["paper_media"]  # (f)
    assert body["information_system"] == "okno"  # (g)
    assert "VACUUM (FULL, ANALYZE)" in body["method"]  # (h)
    assert "перезаписаны нулями" in body["method"]
    assert {"wal", "backups", "restore"} <= set(body["residual"])
    assert "Уничтожение" in body["reason"] or "уничтож" in body["reason"].lower()  # (i)
    assert body["date"]["utc"]
    assert body["date"]["msk"].endswith("МСК")
    assert body["verification"]["result"] == "значения не найдены"
    for key in ("subject", "categories", "information_system", "reason", "date"):
        assert extract[key], key
    assert extract["log_rows"][0]["action"] == "destruction"
    assert act.sha256 == acts.digest(body)
    assert (act.purge_after - act.created_at).days >= 3 * 365
    # None of the destroyed values is in the act.
    text = str(act.document())
    for value in dump_values(person).values():
        assert value not in text
    # Acts are immutable until their three years are over.
    async with database.acquire() as conn:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="immutable"):
            await conn.execute("UPDATE destruction_act SET scope = 'fields' WHERE id = $1", act.id)
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="immutable"):
            await conn.execute("DELETE FROM destruction_act WHERE id = $1", act.id)
    await person.client.close()


async def test_a_value_left_behind_fails_loudly_and_changes_nothing(
    base_url, db, supervisor, dpo
) -> None:
    person = await make_person(base_url, supervisor)
    # A new area keeps the subject's phone in a table whose eraser nobody registered (made
    # as a migration would: by the owner, then readable and writable by the server's role).
    async with owner_connection() as conn:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS test_stray_copy (subject_id uuid, note text);"
            " GRANT ALL ON test_stray_copy TO"
            f" {migrate.quote_ident(await migrate.role_of(os.environ['DATABASE_URL']))}"
        )
    async with database.acquire() as conn:
        await conn.execute(
            "INSERT INTO test_stray_copy VALUES ($1, $2)",
            person.subject,
            f"перезвонить {person.values['phone']}",
        )
    try:
        with pytest.raises(verification.DestructionIncompleteError, match=r"test_stray_copy\.note"):
            await destruction.destroy_subject(person.subject, actor=dpo, reason="проверка")
        async with database.acquire() as conn:
            still = await conn.fetchval(
                "SELECT count(*) FROM subject_field WHERE subject_id = $1", person.subject
            )
            destroyed = await conn.fetchval(
                "SELECT destroyed_at FROM subject WHERE id = $1", person.subject
            )
        assert still == 3
        assert destroyed is None
    finally:
        async with owner_connection() as conn:
            await conn.execute("DROP TABLE test_stray_copy")
    await person.client.close()


async def test_the_act_may_not_repeat_a_destroyed_value(base_url, db, supervisor, dpo) -> None:
    person = await make_person(base_url, supervisor)
    with pytest.raises(destruction.DestructionError, match="акт не должен"):
        await destruction.destroy_subject(
            person.subject,
            actor=dpo,
            reason="по заявлению",
            identification={"reference": f"заявление {person.values['name']}"},
        )
    await person.client.close()


async def test_destroying_some_fields_masks_them_in_messages_too(
    base_url, db, supervisor, dpo
) -> None:
    person = await make_person(base_url, supervisor)
    await person.client.say(f"Запишите ещё раз: {person.values['email']}")
    act = await destruction.destroy_fields(
        person.subject,
        ("email",),
        actor=dpo,
        reason="истёк срок",
        legal_basis="152-fz:5.7",
    )
    assert act.scope == "fields"
    assert [c["field"] for c in act.act["categories"]] == ["email"]
    after = dump()
    assert person.values["email"] not in after
    assert person.values["phone"] in after
    assert person.values["name"] in after
    assert re.search(r"Запишите ещё раз: \[удалено\]", after)
    await person.client.close()


async def test_a_value_left_in_a_file_of_the_data_folder_fails_loudly(
    base_url, db, supervisor, dpo
) -> None:
    from okno.platform.settings import get_settings

    person = await make_person(base_url, supervisor)
    stray = get_settings().data_path / "stray-letter.eml"
    stray.write_text(f"To: {person.values['email']}\n\nВаш код: 123456\n")
    try:
        with pytest.raises(verification.DestructionIncompleteError, match=r"stray-letter\.eml"):
            await destruction.destroy_subject(person.subject, actor=dpo, reason="проверка")
    finally:
        stray.unlink()
    assert files_with(person.values["file"]), "a rolled-back destruction deleted a file"
    act = await destruction.destroy_subject(person.subject, actor=dpo, reason="проверка")
    assert act.act["verification"]["files_searched"] >= 1
    assert files_with(person.values["file"]) == []
    await person.client.close()
