"""The closed list of processing actions of 152-FZ Art. 3 p.3, and who can act."""

from __future__ import annotations

import enum


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
