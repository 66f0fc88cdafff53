"""The DPO console over HTTP: the queue on the legal clock, the flow (refusals need reasons, one
extension), letters, blocking that operators feel over HTTP and WebSocket, acts, the log viewer,
and a retention run that destroys exactly what is due."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from okno.platform import database
from okno.platform.erasure import retention
from okno.platform.rights import requests
from okno.platform.rights.deadlines import RequestKind
from okno.platform.staff.roles import Role
from tests.conftest import staff_client
from tests.test_destruction import dump, make_person


@pytest.fixture
async def dpo(base_url, make_staff):
    user = await make_staff(Role.DPO)
    client = await staff_client(base_url, user.login)
    client.user = user
    yield client
    await client.aclose()


async def post(client, url: str, **form) -> object:
    return await client.post(url, data={**form, "_csrf_token": client.csrf})


async def new_request(kind: RequestKind, received_at: datetime, subject=None) -> int:
    async with database.transaction():
        request = await requests.create(
            database.connection(),
            subject_id=subject,
            kind=kind,
            channel="portal",
            received_at=received_at,
        )
    return request.id


async def test_the_queue_is_sorted_by_deadline_and_coloured(dpo) -> None:
    now = datetime.now(UTC)
    overdue = await new_request(RequestKind.CORRECTION, now - timedelta(days=40))
    near = await new_request(RequestKind.CORRECTION, now - timedelta(days=8))
    fresh = await new_request(RequestKind.ACCESS, now)
    page = (await dpo.get("/admin/dpo/")).text
    positions = [page.index(f'href="/admin/dpo/requests/{n}"') for n in (overdue, near, fresh)]
    assert positions == sorted(positions)
    row = page[page.rindex("<tr", 0, positions[0]) : positions[0]]
    assert "due-overdue" in row
    assert "due-overdue" in page
    assert "просрочен" in page
    assert "МСК" in page
    by_receipt = (await dpo.get("/admin/dpo/?sort=received")).text
    assert by_receipt.index(f'requests/{fresh}"') < by_receipt.index(f'requests/{overdue}"')


async def test_a_refusal_needs_a_reason_and_every_step_is_recorded(dpo) -> None:
    request_id = await new_request(RequestKind.DESTRUCTION, datetime.now(UTC))
    url = f"/admin/dpo/requests/{request_id}"
    assert (await post(dpo, f"{url}/transition", to="review")).status_code == 303
    refused = await post(dpo, f"{url}/transition", to="refused", notice="Отказ")
    assert refused.status_code == 400
    assert "мотивированным" in refused.text
    assert (await post(dpo, f"{url}/transition", to="done")).status_code == 400  # not a next step
    done = await post(
        dpo,
        f"{url}/transition",
        to="refused",
        reason="Данные обрабатываются по договору (п. 5 ч. 1 ст. 6 152-ФЗ)",
        notice="Уничтожить нельзя: договор действует",
    )
    assert done.status_code == 303
    page = (await dpo.get(url)).text
    assert "отказано" in page
    assert "п. 5 ч. 1 ст. 6" in page
    async with database.acquire() as conn:
        history = await requests.history(conn, request_id)
    assert [(e["from_status"], e["to_status"]) for e in history] == [
        (None, "received"),
        ("received", "review"),
        ("review", "refused"),
    ]
    assert history[-1]["notice_to_subject"] == "Уничтожить нельзя: договор действует"


async def test_one_extension_with_a_reasoned_notice_and_only_where_the_law_allows(dpo) -> None:
    access = await new_request(RequestKind.ACCESS, datetime.now(UTC))
    url = f"/admin/dpo/requests/{access}"
    assert (await post(dpo, f"{url}/extend", reason="")).status_code == 400
    async with database.acquire() as conn:
        before = (await requests.get(conn, access)).due_at
    extended = await post(dpo, f"{url}/extend", reason="Нужно запросить архив: ответим до срока")
    assert extended.status_code == 303
    async with database.acquire() as conn:
        after = await requests.get(conn, access)
    assert after.due_at > before
    assert after.extension_reason == "Нужно запросить архив: ответим до срока"
    again = await post(dpo, f"{url}/extend", reason="ещё раз")
    assert again.status_code == 400
    assert "повторное продление" in again.text
    destruction = await new_request(RequestKind.DESTRUCTION, datetime.now(UTC))
    refused = await post(dpo, f"/admin/dpo/requests/{destruction}/extend", reason="нужно время")
    assert refused.status_code == 400
    assert "продлению не подлежит" in refused.text


async def test_a_letter_needs_the_art_14_details(dpo) -> None:
    missing = await post(dpo, "/admin/dpo/requests", kind="access", full_name="Пётр Пустов")
    assert missing.status_code == 400
    assert "ст. 14" in missing.text
    entered = await post(
        dpo,
        "/admin/dpo/requests",
        kind="access",
        received="2026-01-12",
        full_name="Пётр Письменный",
        document="паспорт 4500 000000, выдан 01.01.2020",
        relation="договор № 17",
        reference="вх. № 5 от 12.01.2026",
    )
    assert entered.status_code == 303
    request_id = int(entered.headers["location"].rsplit("/", 1)[1])
    async with database.acquire() as conn:
        request = await requests.get(conn, request_id)
    assert request.channel == "letter"
    assert request.requester["full_name"] == "Пётр Письменный"
    # 12 January 2026 (Moscow): ten working days → 26 January.
    assert request.due_at == datetime(2026, 1, 26, 20, 59, 59, 999999, tzinfo=UTC)


async def test_blocked_subjects_are_invisible_to_operators_over_http_and_websocket(
    base_url, db, supervisor, dpo
) -> None:
    person = await make_person(base_url, supervisor)
    http = supervisor.http_client
    json_headers = {"accept": "application/json"}
    profile_url = f"/api/staff/conversations/{person.conversation}/profile"
    fields = {
        f["name"] for f in (await http.get(profile_url, headers=json_headers)).json()["fields"]
    }
    assert fields == {"name", "phone", "email"}

    # Some fields: only those vanish from the profile panel.
    url = f"/admin/dpo/subjects/{person.subject}"
    assert (await post(dpo, f"{url}/block", scope="fields", fields="phone")).status_code == 303
    shown = (await http.get(profile_url, headers=json_headers)).json()["fields"]
    assert {f["name"] for f in shown} == {"name", "email"}
    assert person.values["phone"] not in json.dumps(shown, ensure_ascii=False)

    # The whole subject: profile, history, list, socket and files are closed to operators.
    assert (await post(dpo, f"{url}/block", scope="subject")).status_code == 303
    assert (await http.get(profile_url, headers=json_headers)).status_code == 403
    history = await http.get(
        f"/api/staff/conversations/{person.conversation}/messages", headers=json_headers
    )
    assert history.status_code == 403
    listed = (await http.get("/api/staff/conversations?box=all", headers=json_headers)).json()
    assert person.conversation not in [c["id"] for c in listed["conversations"]]
    # The socket that had it open gets new messages without their content…
    await person.client.say(f"Новое сообщение {person.values['email']}")
    withheld = await supervisor.message(
        conversation=person.conversation, author={"kind": "subject", "name": None}
    )
    assert withheld["text"] == "Данные клиента заблокированы на время проверки"
    messages = [f for f in supervisor.frames if f["type"] == "message"]
    assert person.values["email"] not in json.dumps(messages[-3:], ensure_ascii=False)
    # …and opening it again is refused.
    await supervisor.send(type="open", conversation=person.conversation, after=0)
    refused = await supervisor.until("error")
    assert refused["code"] == "blocked"
    async with database.acquire() as conn:
        blocked_rows = await conn.fetch(
            "SELECT fields, actor_kind FROM processing_log WHERE subject_id = $1"
            " AND action = 'blocking' ORDER BY id",
            person.subject,
        )
    assert [list(r["fields"]) for r in blocked_rows] == [
        ["phone"],
        ["email", "name", "message_text", "attachment"],
    ]

    # Unblocking gives everything back.
    assert (await post(dpo, f"{url}/unblock", scope="subject")).status_code == 303
    again = (await http.get(profile_url, headers=json_headers)).json()["fields"]
    assert {f["name"] for f in again} == {"name", "phone", "email"}
    await person.client.close()


async def test_the_dpo_destroys_on_request_and_gets_the_act_as_html_and_json(
    base_url, db, supervisor, dpo
) -> None:
    person = await make_person(base_url, supervisor)
    request_id = await new_request(RequestKind.DESTRUCTION, datetime.now(UTC), person.subject)
    url = f"/admin/dpo/requests/{request_id}"
    for step in ("identity_check", "review", "approved"):
        assert (await post(dpo, f"{url}/transition", to=step)).status_code == 303
    assert (await post(dpo, f"{url}/execute")).status_code == 400  # not confirmed
    done = await post(
        dpo, f"{url}/execute", confirm="yes", scope="subject", reference="по заявлению в чате"
    )
    assert done.status_code == 303, done.text
    act_url = done.headers["location"]
    page = (await dpo.get(act_url)).text
    for heading in (
        "Оператор (наименование, адрес)",
        "Лицо, обрабатывающее ПДн по поручению оператора",
        "Субъект (сведения, позволяющие его идентифицировать)",
        "Уничтожили (ФИО, должность)",
        "Категории и перечень уничтоженных ПДн",
        "Материальные носители",
        "Информационная система",
        "Способ уничтожения",
        "Причина",
        "Дата уничтожения",
        "Выписка из журнала",
    ):
        assert heading in page, heading
    assert str(person.subject) in page
    assert dpo.user.display_name in page
    document = (await dpo.get(f"{act_url}/json")).json()
    assert document["act"]["subject"]["id"] == str(person.subject)
    assert document["extract"]["log_rows"][0]["action"] == "destruction"
    assert len(document["sha256"]) == 64
    for value in (person.values["name"], person.values["phone"], person.values["text"]):
        assert value not in page
        assert value not in json.dumps(document, ensure_ascii=False)
    request_page = (await dpo.get(url)).text
    assert "исполнен" in request_page
    await person.client.close()


async def test_access_and_correction_are_executed_and_logged(base_url, db, supervisor, dpo) -> None:
    person = await make_person(base_url, supervisor)
    access = await new_request(RequestKind.ACCESS, datetime.now(UTC), person.subject)
    for step in ("review", "approved"):
        await post(dpo, f"/admin/dpo/requests/{access}/transition", to=step)
    answer = await post(dpo, f"/admin/dpo/requests/{access}/execute", confirm="yes")
    assert answer.status_code == 200
    data = answer.json()
    assert {item["field"]: item["value"] for item in data["personal_data"]}[
        "phone"
    ] == person.values["phone"]
    assert data["operator"]["name"]

    correction = await new_request(RequestKind.CORRECTION, datetime.now(UTC), person.subject)
    for step in ("review", "approved"):
        await post(dpo, f"/admin/dpo/requests/{correction}/transition", to=step)
    bad = await post(
        dpo,
        f"/admin/dpo/requests/{correction}/execute",
        confirm="yes",
        field="phone",
        value="не номер",
    )
    assert bad.status_code == 400
    fixed = await post(
        dpo,
        f"/admin/dpo/requests/{correction}/execute",
        confirm="yes",
        field="phone",
        value="+7 999 111-22-33",
    )
    assert fixed.status_code == 303
    async with database.acquire() as conn:
        value = await conn.fetchval(
            "SELECT value FROM subject_field WHERE subject_id = $1 AND field = 'phone'",
            person.subject,
        )
        logged = await conn.fetch(
            "SELECT action, request_id FROM processing_log WHERE request_id = ANY($1::bigint[]) ORDER BY id",
            [access, correction],
        )
    assert value == "+79991112233"
    assert [(r["action"], r["request_id"]) for r in logged] == [
        ("provision", access),
        ("clarification", correction),
    ]
    await person.client.close()


async def test_the_log_viewer_filters_exports_and_verifies(base_url, db, supervisor, dpo) -> None:
    person = await make_person(base_url, supervisor)
    page = (await dpo.get(f"/admin/dpo/log?subject={person.subject}&action=collection")).text
    assert "сбор" in page
    assert "запись</td>" not in page  # recording rows are filtered out
    exported = await dpo.get(f"/admin/dpo/log?subject={person.subject}&format=csv")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows
    assert {row["subject_id"] for row in rows} == {str(person.subject)}
    assert {"collection", "recording", "storage", "access"} <= {row["action"] for row in rows}
    assert person.values["phone"] not in exported.text
    staff_rows = (
        await dpo.get(f"/admin/dpo/log?actor=staff:{supervisor_id(rows)}&format=csv")
    ).text
    assert str(person.subject) in staff_rows
    verified = await post(dpo, "/admin/dpo/log/verify")
    assert verified.status_code == 200
    assert "Журнал цел" in verified.text
    await person.client.close()


def supervisor_id(rows: list[dict]) -> str:
    return next(row["actor_id"] for row in rows if row["actor_kind"] == "staff")


async def test_a_retention_run_destroys_exactly_what_is_due(base_url, db, supervisor) -> None:
    expired = await make_person(base_url, supervisor)
    kept = await make_person(base_url, supervisor)
    withdrawn_due = await make_person(base_url, supervisor)
    withdrawn_fresh = await make_person(base_url, supervisor)
    aged = await make_person(base_url, supervisor)
    async with database.acquire() as conn:
        # Moving time: a message three years old, a field past its term, withdrawals 30 and
        # 1 days ago, and an act past its own keeping term; no surface should backdate these.
        await conn.execute(
            "UPDATE message SET created_at = now() - interval '1096 days'"
            " WHERE conversation_id = $1 AND body = $2",
            aged.conversation,
            aged.values["text"],
        )
        await conn.execute(
            "UPDATE subject_field SET retain_until = now() - interval '1 minute'"
            " WHERE subject_id = $1 AND field = 'phone'",
            expired.subject,
        )
        for person, ago in ((withdrawn_due, 30), (withdrawn_fresh, 1)):
            given = await conn.fetchrow(
                "SELECT * FROM consent_event WHERE subject_id = $1 AND kind = 'given'",
                person.subject,
            )
            await conn.execute(
                "INSERT INTO consent_event (subject_id, document_id, version, document_sha256,"
                " purpose_code, kind, given_id, channel, control, at)"
                " VALUES ($1, $2, $3, $4, $5, 'withdrawn', $6, 'portal', 'button:Отозвать',"
                " now() - make_interval(days => $7))",
                person.subject,
                given["document_id"],
                given["version"],
                given["document_sha256"],
                given["purpose_code"],
                given["id"],
                ago,
            )
        await conn.execute(
            "INSERT INTO destruction_act (subject_id, scope, act, extract, sha256, created_at,"
            " purge_after) VALUES ($1, 'subject', '{}', '{}', $2, now() - interval '3 years 1 day',"
            " now() - interval '1 day')",
            uuid.uuid4(),
            "0" * 64,
        )
    summary = await retention.run("cli")
    assert summary.withdrawals_registered >= 2
    assert summary.acts_purged >= 1
    assert summary.failures == 0

    text = dump()
    assert expired.values["phone"] not in text  # the field whose term ended
    assert expired.values["email"] in text  # its other fields are not due
    for value in ("name", "phone", "email"):
        assert withdrawn_due.values[value] not in text  # collected under the withdrawn consent
        assert withdrawn_fresh.values[value] in text  # withdrawn a day ago: not due yet
        assert kept.values[value] in text
    assert withdrawn_due.values["text"] in text  # messages are kept on their own basis
    assert aged.values["text"] not in text  # older than the support purpose's term (1095 days)
    for value in ("reply", "name", "phone"):
        assert aged.values[value] in text  # newer messages and the profile stay
    async with database.acquire() as conn:
        made = await conn.fetch(
            "SELECT subject_id, scope, act FROM destruction_act WHERE subject_id = ANY($1::uuid[])",
            [
                expired.subject,
                withdrawn_due.subject,
                withdrawn_fresh.subject,
                kept.subject,
                aged.subject,
            ],
        )
        fresh = await conn.fetchrow(
            "SELECT status, due_at FROM rights_request WHERE subject_id = $1 AND kind = 'consent_withdrawn'",
            withdrawn_fresh.subject,
        )
        due = await conn.fetchval(
            "SELECT status FROM rights_request WHERE subject_id = $1 AND kind = 'consent_withdrawn'",
            withdrawn_due.subject,
        )
    assert sorted(r["subject_id"] for r in made) == sorted(
        [expired.subject, withdrawn_due.subject, aged.subject]
    )
    assert all(r["scope"] == "fields" for r in made)
    assert fresh["status"] == "received"
    assert due == "done"
    # A second run finds nothing more to do for them.
    again = await retention.run("cli")
    assert again.withdrawals_registered == 0
    for person in (expired, kept, withdrawn_due, withdrawn_fresh, aged):
        await person.client.close()


def test_okno_retention_run_from_cron(database_url) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "okno.platform.cli", "retention", "run"],
        env={**os.environ},
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert "задание хранения выполнено" in result.stdout


async def test_a_blocking_claim_is_executed_at_once_and_stop_blocks_too(
    base_url, db, supervisor, dpo
) -> None:
    person = await make_person(base_url, supervisor)
    claim = await new_request(RequestKind.BLOCKING, datetime.now(UTC), person.subject)
    # Due on receipt: no review is needed before blocking.
    done = await post(
        dpo,
        f"/admin/dpo/requests/{claim}/execute",
        confirm="yes",
        scope="fields",
        fields=["phone", "email"],
    )
    assert done.status_code == 303, done.text
    async with database.acquire() as conn:
        request = await requests.get(conn, claim)
        blocked = await conn.fetch(
            "SELECT field FROM subject_field WHERE subject_id = $1 AND blocked_at IS NOT NULL ORDER BY field",
            person.subject,
        )
    assert request.status == "done"
    assert "Телефон, Электронная почта" in request.answer
    assert [r["field"] for r in blocked] == ["email", "phone"]

    stop = await new_request(RequestKind.STOP_PROCESSING, datetime.now(UTC), person.subject)
    early = await post(dpo, f"/admin/dpo/requests/{stop}/execute", confirm="yes")
    assert early.status_code == 400  # not approved yet
    for step in ("review", "approved"):
        await post(dpo, f"/admin/dpo/requests/{stop}/transition", to=step)
    assert (
        await post(dpo, f"/admin/dpo/requests/{stop}/execute", confirm="yes")
    ).status_code == 303
    async with database.acquire() as conn:
        subject_blocked = await conn.fetchval(
            "SELECT blocked_at FROM subject WHERE id = $1", person.subject
        )
    assert subject_blocked is not None
    found = await dpo.get(f"/admin/dpo/find?q=Клиент %23{person.conversation}")
    assert found.status_code == 303
    assert found.headers["location"] == f"/admin/dpo/subjects/{person.subject}"
    page = (await dpo.get(found.headers["location"])).text
    assert "заблокирован с" in page
    assert person.values["phone"] not in page  # the DPO's subject page shows names, not values
    await person.client.close()
