"""Destruction completes whatever the subject asked before: a request of every kind, filed
through «Мои данные» or entered by the DPO from a letter, then destruction by executing a
request in the DPO console and from the DPO's subject page.

The requests name fields («Город», «телефон»); those names sit, legitimately, in the
append-only processing log. Destruction looks for the subject's values, never for them.
"""

from __future__ import annotations

import re
import secrets
import uuid

import httpx
import pytest

from okno.platform import database
from okno.platform.staff.roles import Role
from tests.conftest import staff_client
from tests.test_portal import fill_field, make_person, portal_from_chat, post_request

KINDS = (
    "access",
    "correction",
    "blocking",
    "destruction_of_a_field",
    "stop_processing",
    "withdrawal",
    "letter",
)


@pytest.fixture
async def dpo(base_url, make_staff):
    user = await make_staff(Role.DPO)
    client = await staff_client(base_url, user.login)
    client.user = user
    yield client
    await client.aclose()


async def post(client: httpx.AsyncClient, url: str, **form: str) -> httpx.Response:
    return await client.post(url, data={**form, "_csrf_token": client.csrf})


async def newest_request(subject: uuid.UUID, kind: str) -> int:
    async with database.acquire() as conn:
        return await conn.fetchval(
            "SELECT max(id) FROM rights_request WHERE subject_id = $1 AND kind = $2",
            subject,
            kind,
        )


async def file(kind: str, portal: httpx.AsyncClient, dpo, person, subject: uuid.UUID) -> int:
    """The subject (or the DPO, for a letter) files ``kind``; returns the request's id."""
    if kind == "access":
        response = await post_request(portal, kind="access")
    elif kind == "correction":
        response = await post_request(
            portal, kind="correction", field="city", new_value="Нижний Тагил"
        )
    elif kind == "blocking":
        response = await post_request(portal, kind="blocking", field="phone", comment="не мой")
    elif kind == "destruction_of_a_field":
        response = await post_request(portal, kind="destruction", field="phone")
    elif kind == "stop_processing":
        response = await post_request(portal, kind="stop_processing", field="all")
    elif kind == "withdrawal":
        response = await portal.post(
            f"/me/consents/{person.consent}/withdraw", data={"_csrf_token": portal.csrf}
        )
        assert response.status_code == 303, response.text
        return await newest_request(subject, "consent_withdrawn")
    else:
        response = await post(
            dpo,
            "/admin/dpo/requests",
            kind="destruction",
            subject=str(subject),
            full_name=f"Заявитель {person.marker}",
            document=f"паспорт 45 0{person.digits[:2]} {person.digits}",
            relation=f"диалог Клиент #{person.conversation}",
            address=f"г. Тверь, ул. Маркерная, д. {person.digits[:3]}",
            details=f"Прошу уничтожить мои данные. {person.marker}",
        )
        assert response.status_code == 303, response.text
        return int(response.headers["location"].rsplit("/", 1)[1])
    assert response.status_code == 303, response.text
    name = "destruction" if kind == "destruction_of_a_field" else kind
    return await newest_request(subject, name)


async def approve(dpo, request_id: int) -> None:
    url = f"/admin/dpo/requests/{request_id}"
    for step in ("identity_check", "review", "approved"):
        response = await post(dpo, f"{url}/transition", to=step)
        assert response.status_code == 303, (step, response.text)


async def values_left(values: list[str]) -> list[str]:
    """The values still found anywhere in the database (every text-like column)."""
    async with database.acquire() as conn:
        columns = await conn.fetch(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema()"
            " AND data_type IN ('text', 'jsonb', 'ARRAY', 'character varying')"
        )
        found = []
        for row in columns:
            for value in values:
                hit = await conn.fetchval(
                    f'SELECT 1 FROM "{row["table_name"]}"'
                    f' WHERE strpos("{row["column_name"]}"::text, $1) > 0 LIMIT 1',
                    value,
                )
                if hit:
                    found.append(f"{value} in {row['table_name']}.{row['column_name']}")
    return found


async def test_a_one_word_comment_that_okno_s_own_wording_contains_does_not_block_it(
    base_url, supervisor, dpo
) -> None:
    """«проверки» is part of the log row a blocking writes («блокирование на время проверки по
    вашему требованию»): the word stays in the append-only log, and destruction completes."""
    person = await make_person(base_url, supervisor, phone="+7 912 345-67-05")
    subject = uuid.UUID(person.subject_id)
    portal = await portal_from_chat(base_url, person)
    filed = await post_request(portal, kind="blocking", field="phone", comment="проверки")
    assert filed.status_code == 303, filed.text
    done = await post(
        dpo, f"/admin/dpo/subjects/{subject}/destroy", confirm="yes", reason="по требованию"
    )
    assert done.status_code == 303, done.text
    async with database.acquire() as conn:
        details = await conn.fetchval(
            "SELECT details::text FROM rights_request WHERE subject_id = $1", subject
        )
    assert "проверки" not in details
    await portal.aclose()
    await person.client.close()


@pytest.mark.parametrize("path", ["request", "subject_page"])
@pytest.mark.parametrize("kind", KINDS)
async def test_destruction_completes_after_a_request_of_every_kind(
    base_url, supervisor, dpo, kind, path
) -> None:
    phone = "+7 912 " + "".join(secrets.choice("0123456789") for _ in range(7))
    person = await make_person(base_url, supervisor, phone=phone)
    person.marker = "Маркер" + "".join(secrets.choice("абвгдежзиклмнопрст") for _ in range(6))
    person.digits = "".join(secrets.choice("123456789") for _ in range(6))
    city = f"Мархоград{person.marker[6:]}"
    await fill_field(person.client, supervisor, person.conversation, "city", city)
    subject = uuid.UUID(person.subject_id)
    portal = await portal_from_chat(base_url, person)
    filed = await file(kind, portal, dpo, person, subject)
    assert filed is not None

    if path == "request":
        if kind in ("withdrawal", "letter"):
            target = filed  # a withdrawal opens destruction; the letter asks for it
        else:
            response = await post_request(portal, kind="destruction", field="all")
            assert response.status_code == 303, response.text
            target = await newest_request(subject, "destruction")
        await approve(dpo, target)
        done = await post(
            dpo,
            f"/admin/dpo/requests/{target}/execute",
            confirm="yes",
            scope="subject",
            reference="вх. письмо",
        )
    else:
        done = await post(
            dpo,
            f"/admin/dpo/subjects/{subject}/destroy",
            confirm="yes",
            reason="проверка: обработка без основания",
        )
    assert done.status_code == 303, done.text
    assert re.fullmatch(r"/admin/dpo/acts/\d+", done.headers["location"])
    act = (await dpo.get(f"{done.headers['location']}/json")).json()["act"]
    assert act["verification"]["result"] == "значения не найдены"

    async with database.acquire() as conn:
        destroyed = await conn.fetchval("SELECT destroyed_at FROM subject WHERE id = $1", subject)
        names = await conn.fetchval(
            "SELECT count(*) FROM processing_log WHERE subject_id = $1"
            " AND fields && ARRAY['city', 'phone']",
            subject,
        )
    assert destroyed is not None
    assert names > 0, "the field names stay in the log, as they should"
    values = [person.email, phone.replace(" ", ""), city]
    if kind == "letter":
        values += [person.marker, person.digits]
    assert await values_left(values) == []
    if kind == "letter":
        labels = {c["field"] for c in act["categories"]}
        assert {"requester_name", "requester_document", "requester_address"} <= labels
    await portal.aclose()
    await person.client.close()
