"""Which of a subject's fields staff may see: the one definition, as SQL over ``subject_field``.

A field is visible while it is not blocked (152-FZ Art. 21: a blocked field is kept, not used)
and the consent it was collected under, if any, has not been withdrawn. A field kept on
another basis (``consent_id`` NULL) stays visible until it is blocked.
"""

from __future__ import annotations

# The condition on ``subject_field f`` that makes a field visible to staff. Hand-written: the
# withdrawal is a row in consent_event (given_id points at the consent it ends), which the
# builder cannot express as NOT EXISTS; statements that join subject_field as ``f`` use it.
VISIBLE = (
    "f.blocked_at IS NULL"
    " AND NOT EXISTS (SELECT 1 FROM consent_event w WHERE w.given_id = f.consent_id)"
)

# The visible fields of subject $1 and their values, by field name.
VISIBLE_FIELDS = (
    f"SELECT f.field, f.value FROM subject_field f WHERE f.subject_id = $1 AND {VISIBLE}"
    " ORDER BY f.field"
)
