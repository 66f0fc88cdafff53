from __future__ import annotations

import enum


class Role(enum.StrEnum):
    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    DPO = "dpo"
    ADMIN = "admin"


ROLE_LABELS = {
    Role.OPERATOR: "оператор",
    Role.SUPERVISOR: "старший оператор",
    Role.DPO: "ответственный за обработку ПДн",
    Role.ADMIN: "администратор",
}


def role_label(role: str) -> str:
    """A role in words for a page («оператор»); rows and URLs keep the code."""
    return ROLE_LABELS.get(role, role)  # type: ignore[call-overload]  # a StrEnum key is its str
