"""Staff's columns, declared to destruction: staff's own accounts, sessions and failed
sign-ins, never a data subject's."""

from __future__ import annotations

from okno.platform.erasure.registry import STAFF_OWN, not_pd

not_pd(
    "staff_user.display_name",
    "staff_user.login",
    "staff_user.password_hash",
    "staff_user.pseudonym",
    "staff_user.role",
    "staff_session.token_hash",
    reason=STAFF_OWN,
)
not_pd(
    "staff_login_failure.login_hash",
    "staff_login_failure.ip_hash",
    reason="failed staff sign-ins: keyed hashes of a login and an address, tied to no subject",
)
