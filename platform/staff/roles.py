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
