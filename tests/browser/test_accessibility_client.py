"""Everything a client reaches, checked with axe-core's WCAG 2.1 A and AA rules at desktop and
phone sizes (tests/browser/a11y.py): the chat in each state (empty, the consent offer, messages
from both sides, an error), the widget closed and open on a company's site, the documents,
the reviews, and «Мои данные» before and after signing in. See docs/ui.md, «Accessibility».
"""

from __future__ import annotations

import re

from playwright.async_api import expect

from okno.platform.staff.roles import Role
from tests.browser.a11y import DESKTOP, PHONE, assert_accessible
from tests.browser.conftest import PageErrors, client_page
from tests.browser.test_chat_ui import bubble, conversation_of, png
from tests.browser.test_consent_ui import prechat_server  # noqa: F401 (a fixture)
from tests.browser.test_widget import shop, widget_server  # noqa: F401 (fixtures)
from tests.chat_support import Staff
from tests.test_portal import letters, make_person, outbox_code, reset_ip_limit

SIZES = {"desktop": DESKTOP, "phone": PHONE}


SETTLED = """() => document.getAnimations().every(
  (a) => a.playState !== "running" || a.effect.getTiming().iterations === Infinity)"""


async def check(page, state: str) -> None:
    """axe on the page once its fade-ins have ended (a half-faded text is not what one reads)."""
    await page.wait_for_function(SETTLED)
    await assert_accessible(page, state)


async def at_both_sizes(page, state: str) -> None:
    """The page as it is now, at desktop and at phone width (the phone width is also what a
    640 px window looks like at 200 % zoom): no axe violation and no horizontal scroll."""
    for size, viewport in SIZES.items():
        await page.set_viewport_size(viewport)
        await page.wait_for_timeout(50)
        await check(page, f"{state} ({size})")
        scroll = await page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert scroll <= 0, f"{state} ({size}): scrolls sideways by {scroll}px"


async def test_the_chat_empty_with_the_consent_offer_and_with_messages(
    browser, base_url, make_staff
) -> None:
    client = await client_page(browser, base_url)
    await expect(client.locator(".chat-welcome")).to_be_visible()
    await expect(client.locator(".chat-status")).not_to_contain_text("Подключение")
    await at_both_sizes(client, "/chat empty, connected")

    composer = client.locator(".composer-input")
    await composer.fill("Здравствуйте, где мой заказ?")
    await composer.press("Enter")
    await expect(bubble(client, "где мой заказ").locator(".ticks.sent")).to_be_visible()
    conversation = await conversation_of(client)
    user = await make_staff(Role.SUPERVISOR)
    operator = await Staff.open(base_url, user.login)
    try:
        await operator.open_conversation(conversation)
        await operator.send(type="offer_consent", conversation=conversation, purpose="support")
        offer = client.locator(".msg", has=client.locator(".bot-buttons button"))
        await expect(offer).to_have_count(1)
        await at_both_sizes(client, "/chat with the consent offer")

        await offer.locator(".bot-buttons button").first.click()
        await expect(client.locator(".msg", has_text="согласие сохранено")).to_have_count(1)
        await operator.say(conversation, "Добрый день! Заказ уже в пути.")
        await expect(bubble(client, "Заказ уже в пути")).to_have_count(1)
        await composer.fill("Спасибо!")
        await composer.press("Enter")
        await expect(bubble(client, "Спасибо!").locator(".ticks.sent")).to_be_visible()
        await at_both_sizes(client, "/chat with messages from both sides")
        assert client.errors.errors == []
    finally:
        await operator.close()
        await client.context.close()


async def test_the_chat_with_an_error_and_offline(browser, base_url) -> None:
    client = await client_page(browser, base_url)
    limit = int(await client.locator("#chat").get_attribute("data-max-upload"))
    await client.locator(".file-input").set_input_files(
        {"name": "big.bin", "mimeType": "application/octet-stream", "buffer": b"\0" * (limit + 1)}
    )
    await expect(client.locator(".toast-error")).to_contain_text("слишком большой")
    await at_both_sizes(client, "/chat with an oversized file refused")

    await client.evaluate("window.okno.socket.stopped = true; window.okno.socket.drop()")
    await expect(client.locator(".conn-banner")).to_be_visible()
    await at_both_sizes(client, "/chat offline, with the banner")
    assert client.errors.errors == []
    await client.context.close()


async def test_the_widget_closed_and_open(browser, widget_server, shop) -> None:  # noqa: F811
    shop.okno_origin = widget_server.url
    context = await browser.new_context(viewport=DESKTOP, locale="ru-RU")
    page = await context.new_page()
    try:
        await page.goto(shop.origin)
        button = page.get_by_role("button", name="Открыть чат с компанией")
        await expect(button).to_be_visible()
        await at_both_sizes(page, "widget closed")
        await button.click()
        chat = page.frame_locator("[data-okno-widget] iframe")
        await expect(chat.locator(".chat-welcome")).to_be_visible()
        await at_both_sizes(page, "widget open (the host page)")
        frame = next(f for f in page.frames if "/chat?embed=1" in f.url)
        await frame.wait_for_function("() => window.okno && window.okno.socket.state === 'open'")
        for size, viewport in SIZES.items():
            await page.set_viewport_size(viewport)
            await check(frame, f"widget open (the chat in its frame, {size})")
    finally:
        await context.close()


async def test_the_documents_and_the_reviews(browser, base_url) -> None:
    context = await browser.new_context(viewport=DESKTOP, locale="ru-RU")
    page = await context.new_page()
    errors = PageErrors(page)
    for path in ("/policy", "/consents/processing-support", "/reviews", "/"):
        await page.goto(f"{base_url}{path}")
        await at_both_sizes(page, path)
    assert errors.errors == []
    await context.close()


async def test_my_data_signed_out_and_signed_in(browser, base_url) -> None:
    context = await browser.new_context(viewport=DESKTOP, locale="ru-RU")
    page = await context.new_page()
    errors = PageErrors(page)
    await page.goto(f"{base_url}/me")
    await expect(page).to_have_url(re.compile(r"/me/login$"))
    await at_both_sizes(page, "/me/login")
    await context.close()

    # The chat's own browser goes straight in (tests/browser/test_portal.py).
    client = await client_page(browser, base_url)
    composer = client.locator(".composer-input")
    await composer.fill("Здравствуйте")
    await composer.press("Enter")
    await client.wait_for_function("() => window.okno.state.conversation")
    await client.goto(f"{base_url}/me")
    await expect(client).to_have_url(re.compile(r"/me/data$"))
    for path in ("/me/data", "/me/consents", "/me/history", "/me/requests", "/me/export"):
        await client.goto(f"{base_url}{path}")
        await expect(client).to_have_url(re.compile(f"{path}$"))
        await at_both_sizes(client, path)
    assert errors.errors == []
    assert client.errors.errors == []
    await client.context.close()


async def test_the_chat_menu_reply_form_viewer_and_receipts(browser, base_url, make_staff) -> None:
    client = await client_page(browser, base_url)
    composer = client.locator(".composer-input")
    await composer.fill("Здравствуйте")
    await composer.press("Enter")
    conversation = await conversation_of(client)
    user = await make_staff(Role.SUPERVISOR)
    operator = await Staff.open(base_url, user.login)
    try:
        await operator.open_conversation(conversation)
        await operator.send(type="offer_consent", conversation=conversation, purpose="support")
        await client.get_by_role("button", name="Даю согласие").click()
        await expect(client.locator(".msg", has_text="согласие сохранено")).to_have_count(1)

        # A requested phone: the inline form, then the server's explanation of a bad value.
        await operator.send(type="request_field", conversation=conversation, field="phone")
        field = client.locator(".bot-form input")
        await expect(field).to_be_visible()
        await at_both_sizes(client, "/chat with a requested phone")
        await field.fill("12")
        await field.press("Enter")
        await expect(client.locator(".toast-error")).to_be_visible()
        await at_both_sizes(client, "/chat with a refused phone")

        # The message menu open, and a reply in the composer (the menu closes on resize: it is
        # opened at each size).
        await operator.say(conversation, "Пришлите фото чека, пожалуйста.")
        for size, viewport in SIZES.items():
            await client.set_viewport_size(viewport)
            await client.wait_for_timeout(300)  # the thread settles (a scroll closes the menu)
            message = bubble(client, "фото чека").last
            await message.locator(".msg-menu-button").focus()
            await client.keyboard.press("Enter")
            await expect(client.get_by_role("menu")).to_be_visible()
            await check(client, f"/chat with the message menu open ({size})")
            await client.keyboard.press("Escape")
        await client.set_viewport_size(DESKTOP)
        await bubble(client, "фото чека").last.locator(".msg-menu-button").click()
        await client.get_by_role("menuitem", name="Ответить").click()
        await expect(client.locator(".context-reply")).to_be_visible()
        await at_both_sizes(client, "/chat replying to a message")

        # An image sent: inline, and open in the viewer.
        await client.locator(".file-input").set_input_files(
            {"name": "чек.png", "mimeType": "image/png", "buffer": png()}
        )
        await expect(client.locator(".context-attachment")).to_contain_text("чек.png")
        await at_both_sizes(client, "/chat with a file ready to send")
        await composer.press("Enter")
        image = client.locator(".msg .att-image").last
        await expect(image.locator("img")).to_be_visible()
        await at_both_sizes(client, "/chat with an image")
        await image.click()
        await expect(client.locator(".lightbox")).to_be_visible()
        await check(client, "/chat with the image viewer open")
        await client.keyboard.press("Escape")

        # The consent receipt the bot linked, and the same consent in «Мои данные».
        receipt = client.locator(".bot-links a[href^='/chat/consents/']").first
        href = await receipt.get_attribute("href")
        event_id = href.rsplit("/", 1)[1]
        await client.goto(f"{base_url}{href}")
        await at_both_sizes(client, "the consent receipt from the chat")
        await client.goto(f"{base_url}/me")
        for path in (f"/me/consents/{event_id}/receipt", f"/me/consents/{event_id}/withdraw"):
            await client.goto(f"{base_url}{path}")
            await expect(client).to_have_url(re.compile(f"{path}$"))
            await at_both_sizes(client, path)
        assert client.errors.errors == []
    finally:
        await operator.close()
        await client.context.close()


async def test_the_prechat_form_and_its_error(browser, prechat_server) -> None:  # noqa: F811
    context = await browser.new_context(viewport=DESKTOP, locale="ru-RU")
    page = await context.new_page()
    errors = PageErrors(page)
    await page.goto(f"{prechat_server.url}/chat")
    await at_both_sizes(page, "/chat with the pre-chat form")
    await page.fill("input[name=name]", "Вера")
    await page.fill("input[name=phone]", "+7 916 444-55-66")
    await page.get_by_role("button", name="Начать чат").click()
    await expect(page.locator(".alert")).to_contain_text("отметьте согласие на обработку")
    await at_both_sizes(page, "/chat with the pre-chat form refused")
    assert errors.errors == []
    await context.close()


async def test_the_code_page_the_error_page_and_the_widget_on_a_site_not_allowed(
    browser,
    base_url,
    shop,  # noqa: F811
) -> None:
    context = await browser.new_context(viewport=DESKTOP, locale="ru-RU")
    page = await context.new_page()
    errors = PageErrors(page)
    await page.goto(f"{base_url}/me/login")
    await page.fill("input[name=email]", "nobody@example.ru")
    await page.get_by_role("button", name="Получить код").click()
    await expect(page).to_have_url(re.compile(r"/me/login/code$"))
    await at_both_sizes(page, "/me/login/code")
    await page.fill("input[name=code]", "000000")
    await page.get_by_role("button", name="Войти").click()
    await expect(page.locator(".alert")).to_be_visible()
    await at_both_sizes(page, "/me/login/code with a wrong code")
    await page.goto(f"{base_url}/no-such-page")
    await at_both_sizes(page, "the error page (404)")
    assert errors.errors == []

    # The suite's server lists no sites: the widget's panel explains instead of a frame.
    shop.okno_origin = base_url.replace("127.0.0.1", "localhost")
    await page.goto(shop.origin)
    await page.get_by_role("button", name="Открыть чат с компанией").click()
    await expect(page.get_by_role("dialog", name="Чат с компанией")).to_contain_text(
        "Чат пока не подключён"
    )
    await at_both_sizes(page, "the widget on a site okno does not allow")
    await context.close()


async def test_my_data_with_fields_history_requests_and_an_export(
    browser, base_url, make_staff
) -> None:
    user = await make_staff(Role.SUPERVISOR)
    supervisor = await Staff.open(base_url, user.login)
    await reset_ip_limit()
    person = await make_person(base_url, supervisor, phone="+7 912 345-67-89")
    context = await browser.new_context(viewport=DESKTOP, locale="ru-RU")
    page = await context.new_page()
    errors = PageErrors(page)
    try:
        # Signed in by code from another browser, as tests/browser/test_portal.py does.
        await page.goto(f"{base_url}/me/login")
        await page.fill("input[name=email]", person.email)
        before = await letters(person.subject_id)
        await page.get_by_role("button", name="Получить код").click()
        await expect(page).to_have_url(re.compile(r"/me/login/code$"))
        code, _ = await outbox_code(person.subject_id, before)
        await page.fill("input[name=code]", code)
        await page.get_by_role("button", name="Войти").click()
        await expect(page).to_have_url(re.compile(r"/me/data$"))
        await expect(page.locator('tr[data-field="email"]')).to_be_visible()
        await at_both_sizes(page, "/me/data with fields")
        for tab in ("Кто обрабатывал", "Согласия"):
            await page.get_by_role("link", name=tab).click()
            await at_both_sizes(page, f"«Мои данные», {tab}")
        await page.get_by_role("link", name="Запросы").click()
        await page.get_by_label(re.compile("Запрос сведений об обработке ПДн")).check()
        await page.get_by_role("button", name="Отправить запрос").click()
        await expect(page.locator(".note")).to_contain_text("принят")
        await at_both_sizes(page, "«Мои данные», a request filed")
        await page.get_by_role("link", name="Выгрузка").click()
        await page.get_by_role("button", name="Сделать выгрузку").click()
        await expect(page.locator(".me-exports li")).to_have_count(2)
        await at_both_sizes(page, "«Мои данные», an export made")
        await page.locator('.me-exports a[data-format="html"]').click()
        await expect(page.locator("h1")).to_have_text("Мои персональные данные")
        await at_both_sizes(page, "the printable export")
        assert errors.errors == []
    finally:
        await context.close()
        await supervisor.close()
        await person.client.close()


async def test_the_chat_editing_and_the_delete_confirmation(browser, base_url) -> None:
    client = await client_page(browser, base_url)
    composer = client.locator(".composer-input")
    await composer.fill("Номер заказа 1234")
    await composer.press("Enter")
    sent = bubble(client, "Номер заказа 1234")
    await expect(sent.locator(".ticks.sent")).to_be_visible()
    await composer.press("ArrowUp")
    await expect(client.locator(".composer.editing")).to_be_visible()
    await at_both_sizes(client, "/chat editing a message")
    await composer.press("Escape")
    await sent.locator(".msg-menu-button").focus()
    await client.keyboard.press("Enter")
    await client.get_by_role("menuitem", name="Удалить").click()
    await expect(client.locator("dialog.okno-dialog")).to_be_visible()
    await check(client, "/chat asking to confirm a deletion")
    await client.get_by_role("button", name="Удалить").last.click()
    await expect(client.locator(".msg-deleted")).to_have_count(1)
    await at_both_sizes(client, "/chat with a deleted message")
    assert client.errors.errors == []
    await client.context.close()


async def test_the_rating_the_review_form_and_a_published_review(
    browser, base_url, make_staff
) -> None:
    client = await client_page(browser, base_url)
    composer = client.locator(".composer-input")
    await composer.fill("Вопрос по доставке")
    await composer.press("Enter")
    conversation = await conversation_of(client)
    user = await make_staff(Role.SUPERVISOR)
    operator = await Staff.open(base_url, user.login)
    try:
        await operator.open_conversation(conversation)
        await operator.send(type="take", conversation=conversation)
        await operator.send(type="status", conversation=conversation, status="resolved")

        def last_buttons():
            return client.locator(".msg").last.locator(".bot-buttons button")

        await expect(client.locator(".msg", has_text="Ваш вопрос решён?")).to_have_count(1)
        await at_both_sizes(client, "/chat asking whether the question is resolved")
        await last_buttons().first.click()
        await expect(client.locator(".msg", has_text="Оцените, пожалуйста")).to_have_count(1)
        await at_both_sizes(client, "/chat asking for a rating")
        await last_buttons().last.click()
        review = client.locator(".bot-form textarea")
        await expect(review).to_be_visible()
        await at_both_sizes(client, "/chat with the review form")
        await review.fill("Быстро помогли, спасибо")
        await client.locator(".bot-form button").click()
        publish = client.get_by_role("button", name="Опубликовать анонимно")
        await expect(publish).to_be_visible()
        await publish.click()
        await expect(client.locator(".msg", has_text="Отзыв опубликован")).to_have_count(1)
        await client.goto(f"{base_url}/reviews")
        await expect(client.locator(".review").first).to_be_visible()
        await at_both_sizes(client, "/reviews with a review")
        assert client.errors.errors == []
    finally:
        await operator.close()
        await client.context.close()
