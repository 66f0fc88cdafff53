"""The registry of personal-data fields: the only places a subject's PD may live.

Consent, collection, export, blocking and destruction all work field by field from here, and
the processing log accepts only these names (never values).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Category(enum.StrEnum):
    """PD categories of 152-FZ: general, special (Art. 10), biometric (Art. 11)."""

    GENERAL = "general"
    SPECIAL = "special"
    BIOMETRIC = "biometric"


CATEGORY_LABELS = {
    Category.GENERAL: "общие",
    Category.SPECIAL: "специальные",
    Category.BIOMETRIC: "биометрические",
}


@dataclass(frozen=True, slots=True)
class PDField:
    name: str
    label: str
    category: Category
    # Special and biometric data need written consent: the chat never asks for them.
    collectable_in_chat: bool = True


FIELDS: dict[str, PDField] = {
    field.name: field
    for field in (
        PDField("name", "Имя", Category.GENERAL),
        PDField("phone", "Телефон", Category.GENERAL),
        PDField("email", "Электронная почта", Category.GENERAL),
        PDField("city", "Город", Category.GENERAL),
        PDField("order_number", "Номер заказа или договора", Category.GENERAL),
        PDField("message_text", "Тексты сообщений", Category.GENERAL, collectable_in_chat=False),
        PDField("attachment", "Вложения", Category.GENERAL, collectable_in_chat=False),
        PDField("visitor_token", "Идентификатор браузера", Category.GENERAL, False),
        PDField("messenger_id", "Идентификатор в мессенджере", Category.GENERAL, False),
        PDField("ip_address", "IP-адрес", Category.GENERAL, collectable_in_chat=False),
        PDField("user_agent", "Сведения о браузере", Category.GENERAL, collectable_in_chat=False),
        PDField("health", "Сведения о здоровье", Category.SPECIAL, collectable_in_chat=False),
        # The other special categories of Art. 10 p.1: never fields of a profile, only what
        # staff mark a message as holding (okno.platform.chat.special).
        PDField(
            "race_nationality", "Расовая или национальная принадлежность", Category.SPECIAL, False
        ),
        PDField("political_views", "Политические взгляды", Category.SPECIAL, False),
        PDField("beliefs", "Религиозные или философские убеждения", Category.SPECIAL, False),
        PDField("intimate_life", "Сведения об интимной жизни", Category.SPECIAL, False),
        PDField("criminal_record", "Сведения о судимости", Category.SPECIAL, False),
        PDField("face_image", "Изображение лица", Category.BIOMETRIC, collectable_in_chat=False),
    )
}


def field(name: str) -> PDField:
    try:
        return FIELDS[name]
    except KeyError:
        raise ValueError(f"unknown personal-data field: {name!r}") from None


def categories_of(names: list[str] | tuple[str, ...]) -> list[Category]:
    return sorted({field(name).category for name in names})


def field_label(name: str) -> str:
    """A field in words for a page («Телефон»); rows and the log keep the name."""
    return FIELDS[name].label if name in FIELDS else name
