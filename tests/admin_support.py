"""The console as a browser uses it: pages, and forms posted with the CSRF token they carry.

Tests arrange teams, topics and accounts through these pages, never by SQL.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys

import httpx

from tests.conftest import ADMIN_PASSWORD, ROOT, csrf_from

BASE_URL_VARIABLE = "TEST_SESSION_SERVER_URL"  # set by the session's ``server`` fixture


class Console:
    """One staff member's browser: a cookie jar, the page last opened, and its forms."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, headers={"accept": "text/html"})
        self.page = ""

    @classmethod
    async def sign_in(cls, base_url: str, login: str, password: str) -> Console:
        console = cls(base_url)
        response = await console.submit("/admin/login", login=login, password=password)
        assert response.status_code == 303, response.text
        return console

    async def open(self, path: str) -> str:
        response = await self.http.get(path)
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text}"
        self.page = response.text
        return self.page

    async def submit(self, page: str, action: str | None = None, **fields: str) -> httpx.Response:
        """Open ``page`` and post one of its forms to ``action`` (the page itself by default).

        Redirects are followed as a browser would, so ``self.page`` is what the user sees next.
        """
        await self.open(page)
        response = await self.http.post(
            action or page, data={**fields, "_csrf_token": csrf_from(self.page)}
        )
        if response.status_code == 303:
            location = response.headers["location"]
            followed = await self.http.get(location)
            self.page = followed.text
        else:
            self.page = response.text
        return response

    def alert(self) -> str | None:
        """The error message the page shows, if any."""
        match = re.search(r'<p class="alert" role="alert">(.*?)</p>', self.page, re.S)
        return html.unescape(match.group(1)) if match else None

    async def close(self) -> None:
        await self.http.aclose()

    # What an admin does on the pages of «Сотрудники», «Команды» and «Направления».

    async def create_team(self, name: str) -> int:
        response = await self.submit("/admin/teams/", name=name)
        assert response.status_code == 303, (
            self.alert() or f"{response.status_code} {self.page[:3000]}"
        )
        return int(response.headers["location"].rsplit("/", 1)[1])

    async def team_id(self, name: str) -> int:
        await self.open("/admin/teams/")
        match = re.search(
            rf'<a href="/admin/teams/(\d+)">{re.escape(html.escape(name))}</a>', self.page
        )
        assert match, f"no team {name} on the page"
        return int(match.group(1))

    async def add_member(self, team_id: int, login: str) -> None:
        """Pick the account by its login in the team page's «Добавить в команду» list."""
        await self.open(f"/admin/teams/{team_id}")
        match = re.search(rf'<option value="(\d+)">[^<]*\({re.escape(login)},', self.page)
        assert match, f"{login} is not offered on the team's page"
        response = await self.submit(
            f"/admin/teams/{team_id}", f"/admin/teams/{team_id}/members", staff_id=match.group(1)
        )
        assert response.status_code == 303, (
            self.alert() or f"{response.status_code} {self.page[:3000]}"
        )

    async def remove_member(self, team_id: int, staff_id: int) -> None:
        response = await self.submit(
            f"/admin/teams/{team_id}", f"/admin/teams/{team_id}/members/{staff_id}/remove"
        )
        assert response.status_code == 303, (
            self.alert() or f"{response.status_code} {self.page[:3000]}"
        )

    async def create_topic(
        self, slug: str, title: str, team_id: int, assignment: str = "round_robin"
    ) -> None:
        response = await self.submit(
            "/admin/topics/", slug=slug, title=title, team_id=str(team_id), assignment=assignment
        )
        assert response.status_code == 303, (
            self.alert() or f"{response.status_code} {self.page[:3000]}"
        )

    async def archive_topic(self, slug: str) -> None:
        await self.open("/admin/topics/")
        match = re.search(
            rf'<td>{re.escape(slug)}</td>\s*<td>\s*<form method="post" action="/admin/topics/(\d+)/edit"',
            self.page,
        )
        assert match, f"no topic {slug} on the page"
        response = await self.submit("/admin/topics/", f"/admin/topics/{match.group(1)}/archive")
        assert response.status_code == 303, (
            self.alert() or f"{response.status_code} {self.page[:3000]}"
        )

    async def create_account(
        self,
        login: str,
        role: str,
        password: str,
        *,
        name: str = "",
        team_id: int | None = None,
        max_chats: int | None = None,
    ) -> None:
        fields = {"login": login, "display_name": name, "role": role, "password": password}
        if team_id is not None:
            fields["team"] = str(team_id)
        if max_chats is not None:
            fields["max_chats"] = str(max_chats)
        response = await self.submit("/admin/staff/", **fields)
        assert response.status_code == 303, (
            self.alert() or f"{response.status_code} {self.page[:3000]}"
        )

    async def set_profile(self, login: str, **changes: str) -> None:
        page = f"/admin/staff/{login}"
        await self.open(page)
        fields = {
            name: html.unescape(
                re.search(rf'name="{name}"[^>]*value="([^"]*)"', self.page).group(1)  # type: ignore[union-attr]
            )
            for name in ("display_name", "pseudonym", "max_chats")
        }
        response = await self.submit(page, f"{page}/profile", **{**fields, **changes})
        assert response.status_code == 303, (
            self.alert() or f"{response.status_code} {self.page[:3000]}"
        )


async def admin_console(base_url: str | None = None) -> Console:
    """The installed admin of the session's server, signed in."""
    return await Console.sign_in(base_url or os.environ[BASE_URL_VARIABLE], "admin", ADMIN_PASSWORD)


def okno(*args: str, database_url: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the ``okno`` command as an administrator does on the server."""
    return subprocess.run(
        [sys.executable, "-m", "okno.platform.cli", *args],
        env={**os.environ, "DATABASE_URL": database_url, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def create_api_token(
    console: Console, name: str, scopes: list[str], purpose: str = "support", days: int = 30
) -> str:
    """An API token made on the admin's page (``console``: an admin's); returns the secret
    the page shows that once."""
    await console.open("/admin/api-tokens")
    response = await console.http.post(
        "/admin/api-tokens/",
        data={
            "name": name,
            "purpose": purpose,
            "days": str(days),
            "scope": scopes,
            "_csrf_token": csrf_from(console.page),
        },
    )
    assert response.status_code == 200, console.alert() or response.text[:2000]
    console.page = response.text
    match = re.search(r'id="new-token" class="token" value="(okno_[^"]+)"', response.text)
    assert match, response.text[:2000]
    return match.group(1)
