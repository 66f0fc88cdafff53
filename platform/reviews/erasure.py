"""What destruction erases of the reviews: a review's text (its rating stays); and the
reviews' columns that hold no PD."""

from __future__ import annotations

import uuid

import asyncpg

from okno.platform.erasure.registry import eraser, not_pd
from okno.platform.reviews import queries


@eraser("reviews", columns=("review.body",))
async def erase_reviews(conn: asyncpg.Connection, subject_id: uuid.UUID) -> dict[str, int]:
    """A destroyed subject's review keeps its rating (not PD) and loses its text."""
    erased = await conn.fetchval(queries.ERASE, subject_id)
    return {"отзывы": erased}


not_pd("review.publication", reason="how the review is published: a kind, not a value")
