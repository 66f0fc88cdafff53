"""The closed list of processing actions of 152-FZ Art. 3 p.3, and who can act."""

from __future__ import annotations

import enum
import re


class Action(enum.StrEnum):
    COLLECTION = "collection"
    RECORDING = "recording"
    SYSTEMATIZATION = "systematization"
    ACCUMULATION = "accumulation"
    STORAGE = "storage"
    CLARIFICATION = "clarification"
    EXTRACTION = "extraction"
    USE = "use"
    DISSEMINATION = "dissemination"
    PROVISION = "provision"
    ACCESS = "access"
    DEPERSONALIZATION = "depersonalization"
    BLOCKING = "blocking"
    DELETION = "deletion"
    DESTRUCTION = "destruction"


ACTION_LABELS: dict[Action, str] = {
    Action.COLLECTION: "сбор",
    Action.RECORDING: "запись",
    Action.SYSTEMATIZATION: "систематизация",
    Action.ACCUMULATION: "накопление",
    Action.STORAGE: "хранение",
    Action.CLARIFICATION: "уточнение",
    Action.EXTRACTION: "извлечение",
    Action.USE: "использование",
    Action.DISSEMINATION: "распространение",
    Action.PROVISION: "предоставление",
    Action.ACCESS: "доступ",
    Action.DEPERSONALIZATION: "обезличивание",
    Action.BLOCKING: "блокирование",
    Action.DELETION: "удаление",
    Action.DESTRUCTION: "уничтожение",
}


class ActorKind(enum.StrEnum):
    SUBJECT = "subject"
    STAFF = "staff"
    SYSTEM = "system"
    INTEGRATION = "integration"  # an API token's integration (actor_id: the token's id)


ACTOR_LABELS: dict[str, str] = {
    ActorKind.SUBJECT: "субъект",
    ActorKind.STAFF: "сотрудник",
    ActorKind.SYSTEM: "система",
    ActorKind.INTEGRATION: "интеграция (API-токен)",
}


def actor_label(kind: str, actor_id: object = None) -> str:
    """Who acted, in words for a page («сотрудник № 5»); the log keeps the codes."""
    label = ACTOR_LABELS.get(kind, kind)
    return f"{label} № {actor_id}" if actor_id else label


def basis_label(basis: str | None, consent: str = "согласие") -> str:
    """A legal basis in words («152-ФЗ, ст. 9 ч. 3», «согласие № 12»); the log keeps the code."""
    if not basis:
        return "—"
    if basis.startswith("consent:"):
        return f"{consent} № {basis.split(':', 1)[1]}"
    match = re.fullmatch(r"(\d+)-fz:(\d+)(?:\.(\d+))?(?:\.(\d+))?", basis)
    if not match:
        return basis
    law, article, part, item = match.groups()
    text = f"{law}-ФЗ, ст. {article}"
    if part:
        text += f" ч. {part}"
    if item:
        text += f" п. {item}"
    return text
