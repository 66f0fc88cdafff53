"""The accessibility check every page and state takes: axe-core's WCAG 2.0/2.1 A and AA rules
(ГОСТ Р 52872-2019 is built on WCAG 2.1), run in the page itself.

axe-core comes inside the axe-playwright-python wheel (installed from the lock file), so
nothing is fetched at run time. See docs/ui.md, «Accessibility».
"""

from __future__ import annotations

from typing import Any

from axe_playwright_python.async_playwright import Axe

WCAG_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}

_axe = Axe()


async def violations(page: Any) -> list[str]:
    """One line per violated rule: its id, what it asks, and the first elements that fail it."""
    results = await _axe.run(
        page,
        options={"runOnly": {"type": "tag", "values": WCAG_A_AA}, "resultTypes": ["violations"]},
    )
    return [
        f"{rule['id']}: {rule['help']} — "
        + "; ".join(" ".join(map(str, node["target"])) for node in rule["nodes"][:5])
        for rule in results.response["violations"]
    ]


async def assert_accessible(page: Any, state: str) -> None:
    """No axe violation on the page as it is now (``state`` names it in the failure)."""
    found = await violations(page)
    assert found == [], f"{state}: " + "\n".join(found)
