"""The supervisor's pages, checked by axe-core at desktop and phone sizes (and that they do
not scroll sideways on a phone): «Цели SLA» (saved, and refused with its message), «Отчёты»
with a period that has conversations in it, and «Монитор» with a client waiting.

State is arranged as users make it: a client writes on /ws/client, the admin uses the forms.
"""

from __future__ import annotations

from okno.platform.staff.roles import Role
from tests.browser.test_accessibility_staff import Checks, signed_in, visit
from tests.chat_support import Client


async def test_the_reports_monitor_and_sla_pages_are_accessible(
    browser, base_url, make_staff
) -> None:
    admin = await make_staff(Role.ADMIN)
    client = await Client.open(base_url)
    await client.say("Здравствуйте, вопрос по заказу")
    checks = Checks()
    page = await signed_in(browser, base_url, admin.login)

    await visit(page, f"{base_url}/admin/sla/", checks, "SLA targets")
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
    await visit(page, f"{base_url}/admin/reports/?by=operator", checks, "reports by operator")
    await visit(page, f"{base_url}/admin/monitor/", checks, "monitor")
    checks.done()
    assert page.errors.errors == []
    await page.context.close()
    await client.close()
