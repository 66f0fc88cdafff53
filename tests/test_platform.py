"""Packaging, the home page, health, the OpenAPI schema, and headers that keep pages local."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def test_platform_has_no_init_so_the_standard_library_module_wins() -> None:
    assert not (ROOT / "platform" / "__init__.py").exists()
    result = subprocess.run(
        [sys.executable, "-c", "import platform; print(platform.system())"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() in {"Linux", "Darwin", "Windows"}


def test_the_areas_import_under_the_okno_namespace() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import okno.platform.app, okno.portal, okno.admin.routes"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_health_says_alive_and_readiness_reports_the_database(base_url: str) -> None:
    assert httpx.get(f"{base_url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{base_url}/readyz")
    assert ready.json() == {"status": "ok", "database": "ok", "migrations": "applied"}


def test_the_home_page_links_to_the_chat_the_portal_and_the_staff_login(base_url: str) -> None:
    page = httpx.get(base_url).text
    for link in ('href="/chat"', 'href="/me"', 'href="/admin/login"'):
        assert link in page


async def test_the_openapi_schema_is_served_to_staff(base_url: str, make_staff) -> None:
    from okno.platform.staff.roles import Role
    from tests.conftest import staff_client

    async with httpx.AsyncClient(base_url=base_url) as anonymous:  # docs/security.md
        assert (await anonymous.get("/schema/openapi.json")).status_code == 401
    client = await staff_client(base_url, (await make_staff(Role.OPERATOR)).login)
    schema = (await client.get("/schema/openapi.json")).json()
    await client.aclose()
    assert schema["info"]["title"] == "okno"
    assert "/healthz" in schema["paths"]


def test_pages_forbid_loading_anything_from_another_host(base_url: str) -> None:
    response = httpx.get(f"{base_url}/admin/login")
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert not re.search(r"(src|href)=\"(https?:)?//", response.text)


def test_an_unknown_page_gets_a_clear_error(base_url: str) -> None:
    response = httpx.get(f"{base_url}/no-such-page", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert "Ошибка 404" in response.text
    api = httpx.get(f"{base_url}/no-such-page")
    assert api.json()["status_code"] == 404
    assert api.json()["detail"]
