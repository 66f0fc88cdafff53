"""Which of a subject's fields staff may see: the one definition, as SQL over ``subject_field``.

A field is visible while it is not blocked (152-FZ Art. 21: a blocked field is kept, not used)
and the consent it was collected under, if any, has not been withdrawn. A field kept on
another basis (``consent_id`` NULL) stays visible until it is blocked.
"""

from __future__ import annotations

# The visible fields of subject $1 and their values, by field name. Hand-written: the
# withdrawal is a row in consent_event (given_id points at the consent it ends), a NOT EXISTS
# the builder cannot express. Everyone who shows a subject's profile to staff reads it through
# okno.platform.subjects.service.visible_fields.
VISIBLE_FIELDS = """
SELECT f.field, f.value FROM subject_field f
WHERE f.subject_id = $1 AND f.blocked_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM consent_event w WHERE w.given_id = f.consent_id)
ORDER BY f.field
"""
