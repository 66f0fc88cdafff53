"""The API tokens' hand-written statements."""

from __future__ import annotations

# A call's token, if it is live, with its purpose's legal basis; in the same statement its
# last use is stamped and the call counted in the current minute's window (the rate limit,
# shared by every worker). Hand-written: UPDATE ... FROM with the counter's CASE.
AUTHENTICATE = """
UPDATE api_token t SET
    last_used_at = now(),
    window_started_at = CASE WHEN t.window_started_at > now() - interval '1 minute'
                             THEN t.window_started_at ELSE now() END,
    window_calls = CASE WHEN t.window_started_at > now() - interval '1 minute'
                        THEN t.window_calls + 1 ELSE 1 END
FROM purpose p
WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > now()
  AND p.code = t.purpose_code
RETURNING t.id, t.name, t.purpose_code, p.legal_basis, p.fields, t.scopes, t.window_calls
"""

# The subject's state for an integration's read: whether it exists, is blocked or destroyed,
# and whether a consent of the subject to the token's purpose ($2) is in force (the view
# consent_in_force, the one definition). Hand-written: the view is read in a subquery.
SUBJECT_BASIS = """
SELECT s.blocked_at IS NOT NULL AS blocked, s.destroyed_at IS NOT NULL AS destroyed,
       EXISTS (SELECT 1 FROM consent_in_force g WHERE g.subject_id = s.id
               AND g.purpose_code = $2) AS consented
FROM subject s WHERE s.id = $1
"""

# Every token for the admin's page, newest first, with who created it and whether it still
# works on the database's clock. Hand-written: a join and a computed column.
TOKENS = """
SELECT t.id, t.name, t.purpose_code, t.prefix, t.scopes, t.created_at, t.expires_at,
       t.revoked_at, t.last_used_at, u.login AS created_by_login,
       t.revoked_at IS NULL AND t.expires_at > now() AS live
FROM api_token t JOIN staff_user u ON u.id = t.created_by
ORDER BY t.id DESC
"""
