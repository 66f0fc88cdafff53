"""Reviews after a resolved conversation, declared once for Piccolo (migrations/reviews/
creates the table)."""

from __future__ import annotations

from piccolo.columns import UUID, BigInt, BigSerial, Integer, Text, Timestamptz
from piccolo.table import Table

from okno.platform.database import DatabaseNow


class Review(Table, tablename="review"):
    id = BigSerial(primary_key=True)
    conversation_id = BigInt()
    subject_id = UUID()
    # The bot message that asked for the rating: one review per question.
    question_seq = BigInt()
    rating = Integer()  # 1 to 5
    body = Text(default="")  # contacts masked when saved
    publication = Text(default="private")  # private, anonymous, named
    # Set exactly when the publication is "named": the dissemination consent it is shown under.
    consent_id = BigInt(null=True, default=None)
    created_at = Timestamptz(default=DatabaseNow())
    published_at = Timestamptz(null=True, default=None)
