"""The leak register's statement that stays hand-written until the chat's tables are
declared for Piccolo."""

from __future__ import annotations

# The subjects of the conversations whose ids are $1 (those a leak affected), each once.
# Hand-written: it reads the chat's ``conversation`` table.
SUBJECTS_OF_CONVERSATIONS = """
SELECT DISTINCT subject_id FROM conversation WHERE id = ANY($1::bigint[])
"""
