"""The staff scope: which conversations a staff member may see.

One rule, written once: a role with chat (``CHAT_ROLES``) sees the conversations of their
teams and those assigned to them; ``SEES_ALL`` roles see every conversation. ``Scope.admits``
applies it to rows in hand (the hub, file downloads); ``queries.staff_scope`` is the same rule
in SQL, rendered from these role sets, for statements that decide it in the database.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from okno.platform.staff.roles import Role

CHAT_ROLES = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN})
SEES_ALL = frozenset({Role.SUPERVISOR, Role.ADMIN})


class Scope(msgspec.Struct, frozen=True):
    """What a staff member may see: everything, or their teams and their own conversations.

    A socket's scope also carries its ``session`` (the token's hash): each frame that names a
    conversation re-checks the session, the role and the teams as they are in the database
    now (``access.visible_conversation``); the hub re-checks the scope of open sockets on
    every announcement of a change to the account (``staff.sessions.announce_sessions_ended``)."""

    staff_id: int
    sees_all: bool
    team_ids: frozenset[int]
    session: bytes | None = None

    @classmethod
    def of(
        cls, staff_id: int, role: Role, team_ids: Iterable[int], session: bytes | None = None
    ) -> Scope:
        """The scope a ``role`` gives, with the member's teams: none at all without chat."""
        teams = frozenset(team_ids) if role in CHAT_ROLES else frozenset()
        return cls(staff_id, role in SEES_ALL, teams, session)

    def admits(self, team_id: int | None, assignee_id: int | None) -> bool:
        return self.sees_all or assignee_id == self.staff_id or team_id in self.team_ids
