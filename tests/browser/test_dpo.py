"""The DPO handles a destruction request end to end in a real browser and downloads the act.

With OKNO_SCREENSHOTS=docs/screenshots it also refreshes docs/screenshots/dpo-*.png:

    OKNO_SCREENSHOTS=docs/screenshots .venv/bin/python -m pytest tests/browser/test_dpo.py
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.async_api import expect

from okno.platform import database
from okno.platform.rights import requests
from okno.platform.rights.deadlines import RequestKind
from okno.platform.staff.roles import Role
from tests.browser.conftest import PageErrors
from tests.chat_support import Staff
from tests.conftest import ROOT, STAFF_PASSWORD
from tests.test_destruction import dump_values, make_person


def shots() -> Path:
    folder = os.environ.get("OKNO_SCREENSHOTS")
    path = ROOT / folder if folder else Path(tempfile.mkdtemp(prefix="okno-shots-"))
    path.mkdir(parents=True, exist_ok=True)
    return path


async def dpo_page(browser, base_url: str, login: str):
    context = await browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="ru-RU", accept_downloads=True
    )
    page = await context.new_page()
    page.errors = PageErrors(page)
    await page.goto(f"{base_url}/admin/login")
    await page.fill("input[name=login]", login)
    await page.fill("input[name=password]", STAFF_PASSWORD)
    async with page.expect_navigation():
        await page.click("form button.primary")
    await page.goto(f"{base_url}/admin/dpo")
    return page


async def test_the_dpo_destroys_on_request_and_downloads_the_act(
    browser, base_url, db, make_staff
) -> None:
    boss = await make_staff(Role.SUPERVISOR)
    supervisor = await Staff.open(base_url, boss.login)
    person = await make_person(base_url, supervisor)
    async with database.transaction():
        conn = database.connection()
        request = await requests.create(
            conn,
            subject_id=person.subject,
            kind=RequestKind.DESTRUCTION,
            channel="portal",
            details={"text": "Прошу уничтожить мои персональные данные"},
            requester={"relation": f"диалог Клиент #{person.conversation}"},
        )
        # Company for the screenshot: one overdue and one near request in the queue.
        for kind, days in ((RequestKind.CORRECTION, 30), (RequestKind.ACCESS, 12)):
            await requests.create(
                conn,
                subject_id=None,
                kind=kind,
                channel="letter",
                requester={"full_name": "Заявитель по письму", "document": "паспорт"},
                received_at=datetime.now(UTC) - timedelta(days=days),
            )
    dpo = await make_staff(Role.DPO)
    page = await dpo_page(browser, base_url, dpo.login)
    folder = shots()

    row = page.locator("tr", has=page.locator(f'a[href="/admin/dpo/requests/{request.id}"]'))
    await expect(row).to_contain_text("Уничтожение")
    await expect(page.locator("tr.due-overdue").first).to_be_visible()
    await page.screenshot(path=str(folder / "dpo-queue.png"), full_page=True)
    await row.get_by_role("link", name=f"№ {request.id}").click()
    await expect(page.locator("h1")).to_contain_text(f"Запрос № {request.id}")

    for step in ("проверка личности", "рассмотрение", "одобрен"):
        await page.locator("select[name=to]").select_option(label=step)
        async with page.expect_navigation():
            await page.get_by_role("button", name="Сохранить шаг").click()
        await expect(page.locator(".dpo-status")).to_have_text(step)

    execute = page.locator("form.dpo-execute")
    await expect(execute).to_be_visible()
    await execute.locator("input[name=reference]").fill("заявление через «Мои данные»")
    await execute.locator("input[name=confirm]").check()
    await page.screenshot(path=str(folder / "dpo-request.png"), full_page=True)
    async with page.expect_navigation():
        await execute.get_by_role("button", name="Уничтожить и составить акт").click()

    await expect(page.locator("h1")).to_contain_text("Акт об уничтожении персональных данных")
    await expect(page.locator(".dpo-act")).to_contain_text(str(person.subject))
    await expect(page.locator(".dpo-act")).to_contain_text(dpo.display_name)
    await expect(page.locator(".dpo-act")).to_contain_text("значения не найдены")
    await page.screenshot(path=str(folder / "dpo-act.png"), full_page=True)
    async with page.expect_download() as waiting:
        await page.locator("a.dpo-download").click()
    download = await waiting.value
    saved = await download.path()
    document = json.loads(await asyncio.to_thread(Path(saved).read_text))
    assert document["act"]["subject"]["id"] == str(person.subject)
    assert document["act"]["request_id"] == request.id
    assert len(document["sha256"]) == 64
    text = json.dumps(document, ensure_ascii=False) + await page.content()
    for value in dump_values(person).values():
        assert value not in text

    # The request is done, and the client's chat shows tombstones.
    await page.goto(f"{base_url}/admin/dpo/requests/{request.id}")
    await expect(page.locator(".dpo-status")).to_have_text("исполнен")
    assert page.errors.errors == []
    await page.context.close()
    await person.client.close()
    await supervisor.close()
