"""Tell every worker that something changed: NOTIFY after commit, small ids only."""

from __future__ import annotations

import msgspec

from okno.platform import database

CHANNEL = "okno"


async def publish(payload: dict[str, object]) -> None:
    async with database.acquire() as conn:
        await conn.execute(
            "SELECT pg_notify($1, $2)", CHANNEL, msgspec.json.encode(payload).decode()
        )


async def changed(conversation_id: int, version: int) -> None:
    await publish({"c": conversation_id, "v": version})
