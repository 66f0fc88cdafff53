"""The teams statement that stays hand-written."""

from __future__ import annotations

# Whether staff member $1 may change the members of team $2: an enabled admin, or an enabled
# supervisor in that team; no row for an unknown account. Hand-written: one statement over
# staff_user and team_member, where the builder would need two round trips and the rule
# would be split between them.
MANAGES = """
SELECT u.role = 'admin' OR (u.role = 'supervisor' AND EXISTS (
    SELECT 1 FROM team_member m WHERE m.staff_id = u.id AND m.team_id = $2))
FROM staff_user u WHERE u.id = $1 AND u.disabled_at IS NULL
"""
