"""The admin's first day in Chromium, on a fresh install, with the pictures of docs/admin.md.

The printed admin signs in and sets a password, creates a team, a topic and operators, and a
client who picks that topic on /chat reaches the operator's console. Every new admin page is
photographed; with OKNO_SCREENSHOTS=docs/screenshots the documentation's pictures refresh:

    OKNO_SCREENSHOTS=docs/screenshots .venv/bin/python -m pytest tests/browser -k first_day
"""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from tests.browser.conftest import CHROMIUM_ARGS, PageErrors, client_page, staff_page
from tests.browser.test_chat_ui import bubble, conversation_of
from tests.browser.test_screenshots import say, shots_folder
from tests.conftest import STAFF_PASSWORD
from tests.journeys.conftest import Install, closing, install  # noqa: F401 (fixtures)

ADMIN_PASSWORD = "my-own-admin-password-1"

assert CHROMIUM_ARGS  # the browser fixture of tests/browser/conftest.py launches chromium


async def submit(page: Any, form: str) -> None:
    async with page.expect_navigation():
        await page.locator(form).locator("button.primary, button").first.click()


async def test_the_admins_first_day_in_chromium(
    browser: Any,
    install: Install,  # noqa: F811
    tmp_path: Any,
) -> None:
    folder = shots_folder(tmp_path)
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="ru-RU")
    admin = await context.new_page()
    admin.errors = PageErrors(admin)
    base = install.url

    # Sign in with the printed password; okno asks for one's own at once.
    await admin.goto(f"{base}/admin/login")
    await admin.fill("input[name=login]", "admin")
    await admin.fill("input[name=password]", install.admin_password)
    await submit(admin, "form[action='/admin/login']")
    assert admin.url.endswith("/admin/password")
    await admin.fill("input[name=current]", install.admin_password)
    await admin.fill("input[name=new]", ADMIN_PASSWORD)
    await admin.fill("input[name=repeat]", ADMIN_PASSWORD)
    await submit(admin, "form[action='/admin/password']")
    await admin.fill("input[name=login]", "admin")
    await admin.fill("input[name=password]", ADMIN_PASSWORD)
    await submit(admin, "form[action='/admin/login']")
    await expect(admin.get_by_role("link", name="Команды").first).to_be_visible()

    # A team.
    await admin.get_by_role("link", name="Команды").first.click()
    await admin.fill("input[name=name]", "Продажи")
    await submit(admin, "form[action='/admin/teams/']")
    await expect(admin.locator("h1")).to_have_text("Продажи")

    # A topic routed to it, first among the client's buttons.
    await admin.get_by_role("link", name="Направления").first.click()
    new_topic = admin.locator("form[action='/admin/topics/']")
    await new_topic.locator("input[name=slug]").fill("buy")
    await new_topic.locator("input[name=title]").fill("Купить")
    await new_topic.locator("select[name=team_id]").select_option(label="Продажи")
    await new_topic.locator("select[name=assignment]").select_option("least_loaded")
    await submit(admin, "form[action='/admin/topics/']")
    row = admin.locator("tr", has=admin.locator("td", has_text="buy"))
    for _ in range(3):
        await submit(admin, f"form[action$='/up'] >> nth={await _index_of(admin, 'buy')}")
    await expect(admin.locator("tbody tr").first).to_contain_text("buy")
    await expect(row.locator("select[name=assignment]")).to_have_value("least_loaded")
    await admin.screenshot(path=folder / "admin-topics.png", full_page=True)

    # Two operators in the team, with their capacities.
    await admin.get_by_role("link", name="Сотрудники").first.click()
    for login, name in (("anna", "Анна Петрова"), ("boris", "Борис Смирнов")):
        form = admin.locator("form[action='/admin/staff/']")
        await form.locator("input[name=login]").fill(login)
        await form.locator("input[name=display_name]").fill(name)
        await form.locator("select[name=role]").select_option("operator")
        await form.locator("select[name=team]").select_option(label="Продажи")
        await form.locator("input[name=max_chats]").fill("3")
        await form.locator("input[name=password]").fill(STAFF_PASSWORD)
        await submit(admin, "form[action='/admin/staff/']")
        await expect(admin.locator("tbody")).to_contain_text(name)
    await admin.screenshot(path=folder / "admin-staff.png", full_page=True)

    # Boris forgot his password: a one-time one, shown once.
    await admin.get_by_role("link", name="boris").click()
    await admin.screenshot(path=folder / "admin-account.png", full_page=True)
    await submit(admin, "form[action='/admin/staff/boris/password']")
    await expect(admin.locator(".one-time-password")).to_be_visible()
    await admin.screenshot(path=folder / "admin-password-reset.png", full_page=True)

    await admin.goto(f"{base}/admin/teams/")
    await admin.screenshot(path=folder / "admin-teams.png", full_page=True)
    await admin.get_by_role("link", name="Продажи").click()
    await expect(admin.locator("tbody")).to_contain_text("Анна Петрова")
    await admin.screenshot(path=folder / "admin-team.png", full_page=True)

    # A client picks «Купить» on /chat and reaches Anna's console.
    anna = await staff_page(browser, base, "anna")
    client = await client_page(browser, base)
    await client.get_by_role("button", name="Купить").click()
    await say(client, "Хочу купить диван")
    conversation = await conversation_of(client)
    await expect(client.locator(".chat-name")).to_have_text("Анна Петрова")
    item = anna.locator(f'.conv-item[data-id="{conversation}"]')
    await expect(item).to_be_visible()
    await expect(item).to_contain_text("Купить")
    await item.click()
    await expect(bubble(anna, "Хочу купить диван")).to_have_count(1)

    # Anna tags the conversation on its header; the list filters by tag.
    await anna.locator(".tag-input").fill("мебель")
    await anna.locator(".tag-add button").click()
    await expect(anna.locator(".conv-tags .chip-tag")).to_have_text(["#мебель×"])
    await expect(item).to_contain_text("#мебель")
    await anna.screenshot(path=folder / "admin-first-chat.png")
    await anna.locator(".tag-filter").fill("кухня")
    await expect(item).to_have_count(0)
    await anna.locator(".tag-filter").fill("мебель")
    await expect(item).to_be_visible()
    assert await install.fetchval("SELECT tags FROM conversation WHERE id = $1", conversation) == [
        "мебель"
    ]
    await anna.get_by_role("button", name="Убрать метку мебель").click()
    await expect(anna.locator(".conv-tags .chip-tag")).to_have_count(0)
    await expect(item).to_have_count(0)  # the filter still asks for «мебель»
    assert await install.fetchval("SELECT tags FROM conversation WHERE id = $1", conversation) == []

    await admin.goto(f"{base}/admin/audit/")
    await expect(admin.locator("tbody")).to_contain_text("Направление «buy»")
    await admin.screenshot(path=folder / "admin-audit.png", full_page=True)
    for page in (admin, anna, client):
        assert page.errors.errors == []
    await context.close()
    await anna.context.close()
    await client.context.close()


async def _index_of(page: Any, slug: str) -> int:
    """The place of a topic among the active ones (the rows with ↑ buttons)."""
    slugs = await page.locator(
        "tbody tr:has(form[action$='/up']) td:nth-child(2)"
    ).all_text_contents()
    return [s.strip() for s in slugs].index(slug)
