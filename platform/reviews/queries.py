"""The reviews statements that stay hand-written."""

from __future__ import annotations

# The subject of conversation $1 (whose review is being rated). Hand-written: it reads the
# chat's ``conversation`` table, not yet declared for Piccolo.
CONVERSATION_SUBJECT = "SELECT subject_id FROM conversation WHERE id = $1"

# The published reviews, newest first, at most $1. ``show`` is what the author let be shown
# of their name (consent_event.details), only while that dissemination consent is not
# withdrawn; ``name`` (unless blocked), ``phone`` and ``email`` come from the author's
# subject_field rows, so the page can hide them in the text. Hand-written: one statement for
# the public page, over review, consent_event and subject_field.
PUBLISHED = """
SELECT r.id, r.rating, r.body, r.published_at, r.publication,
       CASE WHEN r.publication = 'named'
              AND r.consent_id IN (SELECT id FROM consent_in_force)
            THEN (SELECT details->>'show' FROM consent_event g WHERE g.id = r.consent_id) END
         AS show,
       (SELECT value FROM subject_field f WHERE f.subject_id = r.subject_id AND f.field = 'name'
          AND f.blocked_at IS NULL) AS name,
       (SELECT value FROM subject_field f WHERE f.subject_id = r.subject_id
          AND f.field = 'phone') AS phone,
       (SELECT value FROM subject_field f WHERE f.subject_id = r.subject_id
          AND f.field = 'email') AS email
FROM review r WHERE r.publication <> 'private' ORDER BY r.published_at DESC LIMIT $1
"""

# Destruction of subject $1's reviews: the rating stays (not PD), the text goes, and with it
# any publication; answers how many reviews were erased. Hand-written: an eraser runs on the
# connection destruction gives it (reviews/erasure.py).
ERASE = """
WITH e AS (UPDATE review SET body = '', publication = 'private', consent_id = NULL,
           published_at = NULL WHERE subject_id = $1 RETURNING 1)
SELECT count(*) FROM e
"""
