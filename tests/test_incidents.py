"""The leak register: deadlines of the two notices, the fine tier, the notice texts, the log."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest

from okno.platform import database
from okno.platform.incidents.service import fine_tier
from okno.platform.staff.roles import Role
from tests.chat_support import Client, subject_of
from tests.conftest import staff_client


@pytest.mark.parametrize(
    ("subjects", "fields", "tier"),
    [
        (10, ("phone",), "менее 1 000 субъектов"),
        (999, ("email",), "менее 1 000 субъектов"),
        (1_000, ("phone",), "от 3 до 5 млн ₽"),
        (10_001, ("phone",), "от 5 до 10 млн ₽"),
        (100_001, ("name",), "от 10 до 15 млн ₽ (ч. 12"),
        (5, ("phone", "health"), "специальные категории: от 10 до 15 млн ₽"),
        (5, ("face_image", "health"), "биометрические данные: от 15 до 20 млн ₽"),
    ],
)
def test_the_fine_tier_follows_the_counts_and_categories(subjects, fields, tier) -> None:
    assert tier in fine_tier(subjects, fields)


async def test_an_incident_is_recorded_counted_and_noticed(base_url, make_staff, db) -> None:
    affected = await Client.open(base_url)
    ack = await affected.say("у меня утекли данные?")
    bystander = await Client.open(base_url)
    other = await bystander.say("а у меня нет")
    dpo = await make_staff(Role.DPO)
    http = await staff_client(base_url, dpo.login)
    response = await http.post(
        "/admin/incidents/",
        data={
            "detected_at": "2026-11-20T09:30",
            "summary": "Выгрузка диалогов оказалась в открытом доступе",
            "causes": "ошибка настройки доступа к резервной копии",
            "harm": "возможное раскрытие переписки",
            "measures": "доступ закрыт, ключи сменены",
            "contact_person": "Ответственный за обработку ПДн, dpo@example.ru",
            "fields": ["message_text", "phone"],
            "conversations": f"#{ack['conversation']}",
            "_csrf_token": http.csrf,
        },
    )
    assert response.status_code == 303, response.text
    incident_id = int(response.headers["location"].rsplit("/", 1)[1])
    page = (await http.get(f"/admin/incidents/{incident_id}")).text
    assert "срок: 21.11.2026 09:30 МСК" in page  # 24 hours after detection
    assert "срок: 23.11.2026 09:30 МСК" in page  # 72 hours
    assert "Затронуто субъектов: 1; категории данных: тексты сообщений, телефон." in page
    assert "ошибка настройки доступа к резервной копии" in page
    assert "менее 1 000 субъектов" in page

    await http.post(
        f"/admin/incidents/{incident_id}/notices", data={"which": "first", "_csrf_token": http.csrf}
    )
    await http.post(
        f"/admin/incidents/{incident_id}/notices",
        data={
            "which": "second",
            "investigation": "права доступа исправлены, виновный сотрудник установлен",
            "_csrf_token": http.csrf,
        },
    )
    page = (await http.get(f"/admin/incidents/{incident_id}")).text
    assert len(re.findall(r"отправлено \d\d\.\d\d\.\d{4}", page)) == 2
    assert "права доступа исправлены" in page

    async with database.acquire() as conn:
        marked = await conn.fetch(
            "SELECT action, reason FROM processing_log WHERE subject_id = $1 AND reason LIKE 'инцидент%'",
            uuid.UUID(await subject_of(ack["conversation"])),
        )
        untouched = await conn.fetchval(
            "SELECT count(*) FROM processing_log WHERE subject_id = $1 AND reason LIKE 'инцидент%'",
            uuid.UUID(await subject_of(other["conversation"])),
        )
        detected = await conn.fetchval(
            "SELECT detected_at FROM incident WHERE id = $1", incident_id
        )
    assert [(r["action"], r["reason"]) for r in marked] == [
        ("access", f"инцидент № {incident_id}: неправомерный доступ или передача")
    ]
    assert untouched == 0
    assert detected.utcoffset() == timedelta(0)
    bad = await http.post(
        "/admin/incidents/", data={"detected_at": "вчера", "_csrf_token": http.csrf}
    )
    assert bad.status_code == 400
    await http.aclose()
    await affected.close()
    await bystander.close()
