"""Teams, their members and the client's topics, declared once for Piccolo.

chat_0001 created the tables; migrations/teams/ adds what the console manages.
"""

from __future__ import annotations

from piccolo.columns import BigInt, Boolean, Integer, Serial, Text, Timestamptz
from piccolo.table import Table


class Team(Table, tablename="team"):
    id = Serial(primary_key=True)
    name = Text()
    archived_at = Timestamptz(null=True, default=None)
    is_default = Boolean(default=False)


class TeamMember(Table, tablename="team_member"):
    # The real key is (team_id, staff_id); Piccolo has no composite keys, so staff_id stands
    # in for the builder (every query here names both columns).
    team_id = Integer()
    staff_id = BigInt(primary_key=True)


class Topic(Table, tablename="topic"):
    id = Serial(primary_key=True)
    slug = Text()
    title = Text()
    team_id = Integer(null=True)
    position = Integer(default=0)
    active = Boolean(default=True)
    assignment = Text(default="round_robin")
