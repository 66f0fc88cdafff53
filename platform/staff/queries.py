"""The staff statements that stay hand-written: the session check every staff request and
every open staff socket runs, over ``staff_session`` joined to ``staff_user``.

They compare against the database's clock (``now()``), as the rule they share does, so a
session's expiry and idle time are measured by one clock wherever they are checked.
"""

from __future__ import annotations

from okno.platform.settings import get_settings


def session_valid() -> str:
    """When a session still counts, over ``staff_session s JOIN staff_user u``: not expired, not
    idle longer than OKNO_SESSION_IDLE_MINUTES, the account enabled. The one rule for requests
    (``SESSION_USER``) and for open sockets, which re-check it (okno.platform.chat.service).

    The only value written into the text is the idle time, an integer from the settings."""
    idle = int(get_settings().session_idle_minutes)
    return (
        f"s.expires_at > now() AND s.last_seen_at > now() - make_interval(mins => {idle})"
        " AND u.disabled_at IS NULL"
    )


# The account of a live session by its token's hash, and whether the session was last seen
# over a minute ago (then the caller touches it). Hand-written: it runs on every staff request,
# one statement joining the session to its account under ``session_valid``.
SESSION_USER = """
SELECT u.id, u.login, u.display_name, u.pseudonym, u.role, u.must_change_password,
       u.disabled_at, s.last_seen_at < now() - interval '1 minute' AS stale
FROM staff_session s JOIN staff_user u ON u.id = s.user_id
WHERE s.token_hash = $1 AND {valid}
"""


def session_user() -> str:
    # ``valid`` is session_valid(): fixed text and an integer setting, never a request's value.
    return SESSION_USER.format(valid=session_valid())


# A session in use is seen now: at most one write a minute (a busy console does not write on
# every request or heartbeat), and never for one already idle past $2 (an idle session stays
# ended). Hand-written: it runs per request and per socket heartbeat, on the database's clock
# that session_valid uses.
TOUCH_SESSION = """
UPDATE staff_session SET last_seen_at = now()
WHERE token_hash = $1 AND last_seen_at < now() - interval '1 minute'
  AND last_seen_at > now() - $2::interval
"""
