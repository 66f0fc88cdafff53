"""«Мои данные» in a real browser: sign in by code from a fresh browser, see the data, revoke a
consent, download the export; and the way in from the chat's own browser.

With OKNO_SCREENSHOTS=docs/screenshots the pictures of docs/portal.md are refreshed:

    OKNO_SCREENSHOTS=docs/screenshots .venv/bin/python -m pytest tests/browser/test_portal.py
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from playwright.async_api import expect

from okno.platform.staff.roles import Role
from tests.browser.conftest import PageErrors, client_page
from tests.chat_support import Staff
from tests.conftest import ROOT
from tests.test_portal import letters, make_person, outbox_code, read_text, reset_ip_limit


def shots(tmp_path: Path) -> Path:
    target = os.environ.get("OKNO_SCREENSHOTS")
    folder = (ROOT / target) if target else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def fresh_page(browser, *, width: int = 1280, height: int = 900):
    context = await browser.new_context(
        viewport={"width": width, "height": height}, locale="ru-RU", accept_downloads=True
    )
    page = await context.new_page()
    page.errors = PageErrors(page)
    return page


async def test_sign_in_by_code_see_data_revoke_and_export(
    browser, base_url, make_staff, tmp_path
) -> None:
    folder = shots(tmp_path)
    user = await make_staff(Role.SUPERVISOR)
    supervisor = await Staff.open(base_url, user.login)
    await reset_ip_limit()
    person = await make_person(base_url, supervisor, phone="+7 912 345-67-89")
    await supervisor.say(person.conversation, "Добрый день! Заказ уже в пути, привезут завтра.")

    page = await fresh_page(browser)
    await page.goto(f"{base_url}/me")
    await expect(page).to_have_url(re.compile(r"/me/login$"))
    await page.fill("input[name=email]", person.email)
    before = await letters(person.subject_id)
    await page.get_by_role("button", name="Получить код").click()
    await expect(page).to_have_url(re.compile(r"/me/login/code$"))
    await page.screenshot(path=folder / "portal-login-code.png")
    code, _ = await outbox_code(person.subject_id, before)
    await page.fill("input[name=code]", code)
    await page.get_by_role("button", name="Войти").click()
    await expect(page).to_have_url(re.compile(r"/me/data$"))
    row = page.locator('tr[data-field="email"]')
    await expect(row.locator(".me-value")).to_have_text(person.email)
    await expect(row).to_contain_text("обрабатываются")
    await expect(page.locator('tr[data-field="phone"] .me-value')).to_have_text("+79123456789")
    await page.screenshot(path=folder / "portal-data.png", full_page=True)

    # The history names the operator by role and pseudonym.
    await page.get_by_role("link", name="Кто обрабатывал").click()
    await expect(page.locator(".me-history")).to_contain_text(user.pseudonym)
    await expect(page.locator(".me-history")).not_to_contain_text(user.login)
    await page.screenshot(path=folder / "portal-history.png")

    # Revoke the processing consent, after reading what follows.
    await page.get_by_role("link", name="Согласия").click()
    card = page.locator(f'.me-consent[data-consent="{person.consent}"]')
    await expect(card).to_contain_text("Согласие на обработку персональных данных")
    await page.screenshot(path=folder / "portal-consents.png", full_page=True)
    await card.get_by_role("link", name="Отозвать…").click()
    await expect(page.locator(".me-withdraw")).to_contain_text("30 дней")
    await page.screenshot(path=folder / "portal-withdraw.png")
    await page.get_by_role("button", name="Да, отозвать согласие").click()
    await expect(page.locator(".note")).to_contain_text("Согласие отозвано")
    await expect(page.locator(".me-consent.withdrawn")).to_have_count(1)
    await page.get_by_role("link", name="Мои данные", exact=True).first.click()
    await expect(page.locator('tr[data-field="email"]')).to_contain_text("согласие отозвано")

    # The destruction task is on the requests page with its deadline.
    await page.get_by_role("link", name="Запросы").click()
    await expect(page.locator(".me-request").first).to_contain_text("Отзыв согласия")
    await page.get_by_label(re.compile("Запрос сведений об обработке ПДн")).check()
    await page.get_by_role("button", name="Отправить запрос").click()
    await expect(page.locator(".note")).to_contain_text("принят")
    await page.screenshot(path=folder / "portal-requests.png", full_page=True)

    # Export: the JSON downloads; the printable page opens.
    await page.get_by_role("link", name="Выгрузка").click()
    await page.get_by_role("button", name="Сделать выгрузку").click()
    await expect(page.locator(".me-exports li")).to_have_count(2)
    await page.screenshot(path=folder / "portal-export.png")
    async with page.expect_download() as waiting:
        await page.locator('.me-exports a[data-format="json"]').click()
    download = await waiting.value
    data = json.loads(read_text(str(await download.path())))
    assert {f["name"] for f in data["fields"]} == {"email", "phone"}
    assert user.login not in json.dumps(data, ensure_ascii=False)
    await page.locator('.me-exports a[data-format="html"]').click()
    await expect(page.locator("h1")).to_have_text("Мои персональные данные")
    await expect(page.locator("body")).to_contain_text(person.email)
    await page.screenshot(path=folder / "portal-export-file.png")

    # On a phone.
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.goto(f"{base_url}/me/data")
    await page.screenshot(path=folder / "portal-phone.png", full_page=True)
    assert page.errors.errors == []
    await page.context.close()
    await supervisor.close()
    await person.client.close()


async def test_the_chat_browser_goes_straight_in(browser, base_url) -> None:
    page = await client_page(browser, base_url)
    composer = page.locator(".composer-input")
    await composer.fill("Здравствуйте")
    await composer.press("Enter")
    await page.wait_for_function("() => window.okno.state.conversation")
    await page.goto(f"{base_url}/me")
    await expect(page).to_have_url(re.compile(r"/me/data$"))
    await expect(page.locator("h1")).to_have_text("Мои данные")
    await expect(page.locator("table").last).to_contain_text("№")
    assert page.errors.errors == []
    await page.context.close()
