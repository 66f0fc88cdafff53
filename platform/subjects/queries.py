"""Which of a subject's fields staff may see: the one definition, as SQL over ``subject_field``.

A field is visible while it is not blocked (152-FZ Art. 21: a blocked field is kept, not used)
and the consent it was collected under, if any, has not been withdrawn. A field kept on
another basis (``consent_id`` NULL) stays visible until it is blocked.
"""

from __future__ import annotations

# The visible fields of subject $1 and their values, by field name. Hand-written: "in force"
# is the view consent_in_force (the one definition of the rule), joined by a subquery. Everyone
# who shows a subject's profile to staff reads it through
# okno.platform.subjects.service.visible_fields.
VISIBLE_FIELDS = """
SELECT f.field, f.value FROM subject_field f
WHERE f.subject_id = $1 AND f.blocked_at IS NULL
  AND (f.consent_id IS NULL OR f.consent_id IN (SELECT id FROM consent_in_force))
ORDER BY f.field
"""

# The subjects' eraser (subjects/erasure.py). Hand-written: it runs on the connection of
# destruction's transaction, and counts what it removed in the same statement (a CTE).

# Profile fields of the subject removed as rows; counts them for the act.
PROFILE_DELETE = (
    "WITH gone AS (DELETE FROM subject_field WHERE subject_id = $1 RETURNING 1)"
    " SELECT count(*) FROM gone"
)
