"""Where a subject's PD lives, area by area: each area registers how to destroy it.

Destruction (okno.platform.erasure) runs every registered eraser in one transaction, then
verifies that none of the subject's values remain anywhere in the database. An area that
stores PD in a new table registers an eraser here in the same change.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import asyncpg

# An eraser destroys what its area keeps of the subject (values, files) and returns how many
# items it destroyed, by kind, for the destruction act (e.g. {"сообщения": 12}).
Eraser = Callable[[asyncpg.Connection, uuid.UUID], Awaitable[dict[str, int]]]

ERASERS: dict[str, Eraser] = {}


def eraser(area: str) -> Callable[[Eraser], Eraser]:
    def register(function: Eraser) -> Eraser:
        ERASERS[area] = function
        return function

    return register
