"""The operator console's tools in a real browser: boxes, take, transfer, status, canned replies."""

from __future__ import annotations

import re

from playwright.async_api import expect

from okno.platform.staff.roles import Role
from tests.browser.conftest import client_page, staff_page
from tests.browser.test_chat_ui import bubble, conversation_of


async def test_a_supervisor_takes_transfers_and_resolves(browser, base_url, make_staff) -> None:
    boss = await make_staff(Role.SUPERVISOR)
    colleague = await make_staff(Role.OPERATOR)
    client = await client_page(browser, base_url)
    await client.locator(".composer-input").fill("Нужна помощь с оплатой")
    await client.locator(".composer-input").press("Enter")
    conversation = await conversation_of(client)

    console = await staff_page(browser, base_url, boss.login)
    await expect(console.get_by_role("tab")).to_have_count(4)  # "Все" for supervisors
    await console.get_by_role("tab", name="Все").click()
    item = console.locator(f'.conv-item[data-id="{conversation}"]')
    await item.click()
    await expect(bubble(console, "Нужна помощь с оплатой")).to_have_count(1)

    # Take it (from the queue, or from whoever the router gave it to).
    take = console.locator(".take-button")
    if await take.is_visible():
        await take.click()
    await expect(console.locator(".conv-sub")).to_contain_text("ведёте вы")
    await expect(client.locator(".chat-name")).to_have_text(boss.display_name)
    await expect(console.get_by_role("tab", name=re.compile("Мои"))).to_be_visible()

    # Transfer to a colleague from the directory, then take it back.
    await console.locator(".transfer-button").click()
    dialog = console.locator("dialog.transfer-dialog")
    await expect(dialog).to_be_visible()
    await dialog.locator(".pick", has_text=colleague.display_name).click()
    await expect(console.locator(".conv-sub")).to_contain_text(f"ведёт {colleague.display_name}")
    await expect(client.locator(".chat-name")).to_have_text(colleague.display_name)
    await console.locator(".take-button").click()
    await expect(console.locator(".conv-sub")).to_contain_text("ведёте вы")

    # Resolve: the bot asks the client, whose button answers it.
    await console.locator(".status-button").click()
    await console.get_by_role("menuitem", name="Решён — закрыть").click()
    await expect(console.locator(".status-button")).to_contain_text("Решён")
    question = client.locator(".msg", has_text="Ваш вопрос решён?")
    await expect(question.locator(".bot-button")).to_have_count(2)
    await expect(
        console.locator(".msg", has_text="Ваш вопрос решён?").locator(".bot-button:disabled")
    ).to_have_count(2)  # staff see the bot's buttons, but they are the client's to press
    await question.get_by_role("button", name="Да, спасибо").click()
    await expect(question.locator(".bot-button")).to_have_count(0)

    # The bot asks for a rating, then for a review in an inline form.
    rating = client.locator(".msg", has_text="Оцените")
    await rating.get_by_role("button", name="★★★★★", exact=True).click()
    review = client.locator(".msg", has_text="Спасибо за оценку")
    await review.get_by_role("textbox", name="Отзыв").fill("Быстро <b>помогли</b>, спасибо!")
    await review.get_by_role("button", name="Отправить").click()
    await expect(review.locator(".bot-form-done")).to_contain_text("отзыв сохранён")
    publish = client.locator(".msg", has_text="Опубликовать отзыв")
    await publish.get_by_role("button", name="Не публиковать").click()
    await expect(client.locator(".msg", has_text="не будет опубликован")).to_have_count(1)

    assert client.errors.errors == []
    assert console.errors.errors == []
    await client.context.close()
    await console.context.close()


async def test_canned_replies_are_added_and_inserted_with_a_slash(
    browser, base_url, make_staff
) -> None:
    boss = await make_staff(Role.SUPERVISOR)
    client = await client_page(browser, base_url)
    await client.locator(".composer-input").fill("Здравствуйте")
    await client.locator(".composer-input").press("Enter")
    conversation = await conversation_of(client)

    console = await staff_page(browser, base_url, boss.login)
    await console.get_by_role("button", name="Шаблоны ответов").click()
    dialog = console.locator("dialog.canned-dialog")
    await dialog.locator("input[name=shortcut]").fill("привет")
    await dialog.locator("textarea[name=text]").fill(
        "Здравствуйте! Меня зовут <Игорь>, чем помочь?"
    )
    await dialog.get_by_role("button", name="Добавить").click()
    await expect(dialog.locator(".canned-list")).to_contain_text("/привет")
    await dialog.get_by_role("button", name="Закрыть").click()

    await console.get_by_role("tab", name="Все").click()
    await console.locator(f'.conv-item[data-id="{conversation}"]').click()
    composer = console.locator(".composer-input")
    await composer.press_sequentially("/при")
    popup = console.locator(".canned-popup")
    await expect(popup).to_be_visible()
    await expect(popup.get_by_role("option").first).to_contain_text("/привет")
    await composer.press("Enter")
    await expect(composer).to_have_value("Здравствуйте! Меня зовут <Игорь>, чем помочь?")
    await composer.press("Enter")
    await expect(bubble(client, "Меня зовут <Игорь>")).to_have_count(1)

    # Deleting it from the manager removes it from the popup.
    await console.get_by_role("button", name="Шаблоны ответов").click()
    await dialog.get_by_role("button", name="Удалить шаблон /привет").click()
    await expect(dialog.locator(".canned-list")).not_to_contain_text("/привет")
    await dialog.get_by_role("button", name="Закрыть").click()
    await composer.press_sequentially("/при")
    await expect(popup).to_be_hidden()

    assert console.errors.errors == []
    await client.context.close()
    await console.context.close()


async def test_consent_then_a_requested_field_through_the_bot(
    browser, base_url, make_staff
) -> None:
    boss = await make_staff(Role.SUPERVISOR)
    client = await client_page(browser, base_url)
    await client.locator(".composer-input").fill("Перезвоните мне, пожалуйста")
    await client.locator(".composer-input").press("Enter")
    conversation = await conversation_of(client)
    console = await staff_page(browser, base_url, boss.login)
    await console.get_by_role("tab", name="Все").click()
    await console.locator(f'.conv-item[data-id="{conversation}"]').click()

    # Without consent the phone cannot be asked for: the console says why.
    await console.locator(".request-button").click()
    await console.get_by_role("menuitem", name="Запросить: Телефон").click()
    await expect(console.locator(".toast-error")).to_be_visible()

    # The bot offers consent with the documents' links; the client gives it.
    await console.locator(".request-button").click()
    await console.get_by_role("menuitem", name="Предложить согласие на обработку ПДн").click()
    offer = client.locator(".msg", has=client.locator(".bot-links"))
    await expect(offer.locator(".bot-links a").first).to_have_attribute("href", re.compile("^/"))
    await offer.get_by_role("button", name="Даю согласие").click()
    await expect(offer.locator(".bot-button")).to_have_count(0)

    # Now the phone: an inline form for the client, a status for the operator.
    await console.locator(".request-button").click()
    await console.get_by_role("menuitem", name="Запросить: Телефон").click()
    form = client.locator(".msg", has=client.locator("form.bot-form"))
    await expect(console.locator(".bot-form-waiting")).to_contain_text("Телефон")
    phone = form.get_by_role("textbox", name="Телефон")
    await expect(phone).to_have_attribute("type", "tel")
    await phone.fill("не телефон")
    await form.get_by_role("button", name="Отправить").click()
    await expect(client.locator(".toast-error")).to_be_visible()
    await phone.fill("+7 912 345-67-89")
    await form.get_by_role("button", name="Отправить").click()
    done = client.locator(".bot-form-done", has_text="Телефон")
    await expect(done).to_be_visible()
    await expect(done).not_to_contain_text("345-67")  # masked
    await expect(console.locator(".bot-form-done", has_text="Телефон")).to_be_visible()
    await expect(console.locator(".profile-content")).to_contain_text("Телефон")

    assert client.errors.errors == []
    assert console.errors.errors == []
    await client.context.close()
    await console.context.close()
