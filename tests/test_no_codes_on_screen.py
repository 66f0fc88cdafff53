"""No raw codes on screen: the pages a client, an operator and the DPO read say words, not the
codes their rows keep (roles, who acted, how a consent was given, what a request asks, legal
bases, field names, Litestar's English reason phrases)."""

from __future__ import annotations

import html
import re

import httpx
import pytest

from okno.platform.staff.roles import Role
from okno.platform.subjects.fields import FIELDS
from tests.chat_support import Staff
from tests.conftest import staff_client
from tests.test_portal import make_person, portal_from_chat, post_request, reset_ip_limit

CODES = re.compile(
    r"\b(?:operator|supervisor|subject|staff|system|dpo|field|fields|all|comment|new_value"
    r"|scope|button|checkbox|"
    + "|".join(FIELDS)
    + r")\b|\b[a-z_]+:\d|\b\d+-fz\b|Not Found|Forbidden|Method Not Allowed"
)


# The logins of the test's accounts (make_staff: «dpo-1a2b3c»), shown as their names.
LOGINS = re.compile(r"\b(?:operator|supervisor|dpo|admin)-[0-9a-f]{6}\b")


def codes_on(page: str) -> list[str]:
    """The codes in what a person reads of ``page`` (its text, not its markup, its scripts or
    the identifiers it shows as such in <code>: a subject's id, a purpose to filter by, a
    table), each with the words around it."""
    body = re.sub(r"<(script|style|code)\b.*?</\1>", " ", page, flags=re.S)
    text = LOGINS.sub(" ", html.unescape(re.sub(r"<[^>]+>", " ", body)))
    text = re.sub(r"\s+", " ", text)
    return sorted(
        {
            f"{m.group(0)} in «{text[max(m.start() - 40, 0) : m.end() + 40]}»"
            for m in CODES.finditer(text)
        }
    )


async def seen(http: httpx.AsyncClient, path: str, status: int = 200) -> list[str]:
    response = await http.get(path)
    assert response.status_code == status, f"{path}: {response.status_code}"
    return [f"{path}: {code}" for code in codes_on(response.text)]


@pytest.fixture
async def supervisor(base_url, make_staff):
    user = await make_staff(Role.SUPERVISOR)
    staff = await Staff.open(base_url, user.login)
    yield staff
    await staff.close()


async def test_pages_show_words_not_codes(base_url, make_staff, supervisor) -> None:
    await reset_ip_limit()
    person = await make_person(base_url, supervisor, phone="+7 912 345-67-09")
    portal = await portal_from_chat(base_url, person)
    operator = await staff_client(base_url, (await make_staff(Role.OPERATOR)).login)
    dpo = await staff_client(base_url, (await make_staff(Role.DPO)).login)
    dpo.timeout = httpx.Timeout(60)  # a destruction rebuilds tables before it answers
    try:
        filed = await post_request(portal, kind="destruction", comment="удалите всё обо мне")
        assert filed.status_code == 303, filed.text
        request_id = int(filed.headers["location"].rsplit("=", 1)[1])
        found = []
        found += await seen(portal, f"/chat/consents/{person.consent}")
        for path in ("/me/consents", "/me/requests", "/me/history", "/me/data"):
            found += await seen(portal, path)
        found += await seen(portal, "/no-such-page", 404)
        found += await seen(operator, "/admin/chats")
        found += await seen(operator, "/admin/no-such-page", 404)
        found += await seen(dpo, f"/admin/dpo/requests/{request_id}")
        found += await seen(dpo, f"/admin/dpo/log?subject={person.subject_id}")
        found += await seen(dpo, f"/admin/dpo/subjects/{person.subject_id}")
        # The words are there instead.
        request_page = (await dpo.get(f"/admin/dpo/requests/{request_id}")).text
        assert "все данные" in request_page
        assert "Комментарий субъекта" in request_page
        receipt = (await portal.get(f"/chat/consents/{person.consent}")).text
        assert "кнопка «Даю согласие»" in receipt

        destroyed = await dpo.post(
            f"/admin/dpo/subjects/{person.subject_id}/destroy",
            data={"confirm": "yes", "reason": "по запросу субъекта", "_csrf_token": dpo.csrf},
        )
        assert destroyed.status_code == 303, destroyed.text
        found += await seen(dpo, destroyed.headers["location"])
        assert found == [], "\n".join(found)

        assert "оператор" in (await operator.get("/admin/chats")).text
        assert "страница не найдена" in (await operator.get("/admin/no-such-page")).text
    finally:
        for http in (portal, operator, dpo):
            await http.aclose()
        await person.client.close()
