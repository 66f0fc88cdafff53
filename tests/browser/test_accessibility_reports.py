"""The supervisor's pages, checked by axe-core at desktop and phone sizes (and that they do
not scroll sideways on a phone): «Цели SLA» (saved, and refused with its message), «Отчёты»
with a period that has conversations, a rating with a comment and an operator's occupancy in
it, the comments shown, and «Монитор» with a client waiting.

State is arranged as users make it: clients write on /ws/client, a supervisor on /ws/staff
takes and resolves one chat, its client rates it with a comment, the admin uses the forms.
With OKNO_SCREENSHOTS=docs/screenshots the pictures of docs/ui.md refresh.
"""

from __future__ import annotations

from okno.platform.staff.roles import Role
from tests.browser.a11y import DESKTOP
from tests.browser.test_accessibility_console import screenshot
from tests.browser.test_accessibility_staff import Checks, signed_in, visit
from tests.chat_support import Client
from tests.test_reports_occupancy import resolve_and_rate, take


async def test_the_reports_monitor_and_sla_pages_are_accessible(
    browser, base_url, make_staff, supervisor
) -> None:
    admin = await make_staff(Role.ADMIN)
    rated = await Client.open(base_url)
    conversation = (await rated.say("Не приходит код подтверждения"))["conversation"]
    await take(supervisor, conversation)
    await supervisor.say(conversation, "Отправили код ещё раз")
    await resolve_and_rate(supervisor, rated, conversation, "Помогли за пару минут")
    client = await Client.open(base_url)
    await client.say("Здравствуйте, вопрос по заказу")
    checks = Checks()
    page = await signed_in(browser, base_url, admin.login)

    await visit(page, f"{base_url}/admin/sla/", checks, "SLA targets")
    await page.set_viewport_size(DESKTOP)
    await screenshot(page, "admin-sla.png")
    row = page.locator("tr[id^='team-']").first
    await row.locator("input[name=first_response_minutes]").fill("30")
    async with page.expect_navigation():
        await row.locator("button").click()
    await checks.check(page, "SLA targets, saved")
    row = page.locator("tr[id^='team-']").first
    await row.locator("input[name=resolution_minutes]").fill("много")
    async with page.expect_navigation():
        await row.locator("button").click()
    assert await page.locator(".alert").count() == 1
    await checks.check(page, "SLA targets, refused")

    await visit(page, f"{base_url}/admin/reports/", checks, "reports")
    await page.set_viewport_size(DESKTOP)
    await screenshot(page, "admin-reports.png")
    await screenshot(page.locator("#report-occupancy"), "admin-reports-occupancy.png")
    await visit(page, f"{base_url}/admin/reports/?by=operator", checks, "reports by operator")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Показать комментарии").click()
    assert await page.locator(".csat-comments li").count() >= 1
    await checks.check(page, "reports, the comments shown")
    await page.set_viewport_size(DESKTOP)
    await screenshot(page.locator("#report-csat"), "admin-reports-comments.png")
    await visit(page, f"{base_url}/admin/monitor/", checks, "monitor")
    await page.set_viewport_size(DESKTOP)
    await screenshot(page, "admin-monitor.png")
    checks.done()
    assert page.errors.errors == []
    await page.context.close()
    await client.close()
    await rated.close()
