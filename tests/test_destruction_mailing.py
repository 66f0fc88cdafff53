"""A letter of a mailing is the subject's PD too: after destruction neither the letter in the
outbox nor the address it went to is left anywhere."""

from __future__ import annotations

import asyncio
import os
import secrets
import uuid
from pathlib import Path

from okno.platform import database
from okno.platform.staff.roles import Role
from tests.chat_support import subject_of
from tests.conftest import staff_client
from tests.test_destruction import dump
from tests.test_mailings import email_subscriber, wait_until_sent


async def test_a_mailing_letter_and_its_address_are_gone_after_destruction(
    base_url, supervisor, make_staff
) -> None:
    address = f"mail.marker.{secrets.token_hex(4)}@example.ru"
    client = await email_subscriber(base_url, supervisor, address)
    subject = uuid.UUID(await subject_of(client.conversation))  # type: ignore[attr-defined]
    tag = f"t{uuid.uuid4().hex[:8]}"  # only this client is in the audience
    tagged = await supervisor.http_client.post(
        f"/api/staff/conversations/{client.conversation}/tags",  # type: ignore[attr-defined]
        json={"tags": [tag]},
        headers={"x-csrf-token": supervisor.http_client.csrf},
    )
    assert tagged.status_code == 201
    admin = await staff_client(base_url, (await make_staff(Role.ADMIN)).login)
    made = await admin.post(
        "/admin/mailings/",
        files={
            "title": (None, "Акция"),
            "body": (None, "Письмо перед уничтожением"),
            "tags": (None, tag),
            "email": (None, "on"),
            "_csrf_token": (None, admin.csrf),
        },
    )
    mailing_id = int(made.headers["location"].rsplit("/", 1)[1])
    await admin.post(f"/admin/mailings/{mailing_id}/schedule", data={"_csrf_token": admin.csrf})
    await wait_until_sent(mailing_id)
    await admin.aclose()
    async with database.acquire() as conn:
        letter = Path(
            await conn.fetchval("SELECT path FROM mail_outbox WHERE subject_id = $1", subject)
        )
    assert address in (await asyncio.to_thread(letter.read_bytes)).decode()

    dpo = await staff_client(base_url, (await make_staff(Role.DPO)).login)
    destroyed = await dpo.post(
        f"/admin/dpo/subjects/{subject}/destroy",
        data={"confirm": "yes", "reason": "по требованию", "_csrf_token": dpo.csrf},
    )
    await dpo.aclose()
    assert destroyed.status_code == 303, destroyed.text

    assert not await asyncio.to_thread(letter.exists)

    assert address not in await asyncio.to_thread(dump, os.environ["OKNO_MIGRATION_DATABASE_URL"])
    async with database.acquire() as conn:
        delivery = await conn.fetchval(
            "SELECT status FROM mailing_delivery WHERE mailing_id = $1", mailing_id
        )
    assert delivery == "delivered"  # the count stays; who it went to does not
    await client.close()
