"""Every route declares who may call it; staff routes admit exactly their roles."""

from __future__ import annotations

import re

import httpx
import pytest

from okno.platform.app import create_app
from okno.platform.staff.roles import Role
from okno.platform.web.access import declared_access
from tests.conftest import staff_client


def http_routes() -> list[tuple[str, str, object]]:
    app = create_app()
    routes = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if handler.handler_name == "options_handler":
                continue  # Litestar's automatic OPTIONS answer: headers only, no data
            for method in sorted(getattr(handler, "http_methods", ()) or ("WS",)):
                routes.append((method, route.path, handler))
    return routes


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+):(\w+)\}", lambda m: "1" if m.group(2) == "int" else "x", path)


def test_every_route_declares_who_may_call_it() -> None:
    undeclared = [
        f"{method} {path}"
        for method, path, handler in http_routes()
        if declared_access(handler) is None
    ]
    assert undeclared == []


STAFF_ROUTES = [
    (method, path, declared_access(handler))
    for method, path, handler in http_routes()
    if isinstance(declared_access(handler), frozenset) and method != "WS"  # sockets: test_chat.py
]


@pytest.mark.parametrize(
    ("method", "path", "roles"), STAFF_ROUTES, ids=[f"{m} {p}" for m, p, _ in STAFF_ROUTES]
)
async def test_staff_routes_admit_exactly_their_roles(
    base_url, make_staff, method, path, roles
) -> None:
    url = concrete(path)
    async with httpx.AsyncClient(
        base_url=base_url, headers={"accept": "application/json"}
    ) as anonymous:
        response = await anonymous.request(method, url)
        assert response.status_code in (401, 403), f"anonymous got {response.status_code}"
    for role in Role:
        user = await make_staff(role)
        client = await staff_client(base_url, user.login)
        client.headers["accept"] = "application/json"
        response = await client.request(method, url, headers={"x-csrf-token": client.csrf})
        if role in roles:
            assert response.status_code not in (401, 403), f"{role} refused: {response.text}"
        else:
            assert response.status_code == 403, f"{role} got {response.status_code}"
        await client.aclose()
