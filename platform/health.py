"""What ``GET /healthz`` reports: whether the database answers."""

from __future__ import annotations

from okno.platform import database


async def database_answers() -> bool:
    """Whether a pooled connection answers a trivial query now; any failure is a no."""
    try:
        async with database.acquire() as conn:
            await conn.fetchval("SELECT 1")
    except Exception:
        return False
    return True
