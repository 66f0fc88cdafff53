"""The chat and widget settings an admin edits in «Чат и виджет»: the chat's title, the bot's
greeting, the accent colour, the launcher's side, the sites allowed to embed the widget, and
the pre-chat form.

Stored in ``chat_setting`` (one row per setting that differs from the default), read through
one cached function, ``current()``, that every worker refreshes when a change is announced
(``okno.platform.shared_cache``). Two environment variables stay as overrides, for deployments
configured from outside: a non-empty ``OKNO_WIDGET_ORIGINS`` replaces the allowed origins and a
set ``OKNO_PRECHAT_FORM`` decides the pre-chat form, whatever the console says; the page shows
when that is so. ``allowed_origins()`` is the one answer to "which sites may embed okno" for
the widget's frame and for the sockets' Origin check.
"""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import urlsplit

import msgspec

from okno.platform import database, shared_cache
from okno.platform.audit import service as audit
from okno.platform.chatsettings.tables import ChatSetting
from okno.platform.errors import Refused
from okno.platform.settings import get_settings

CACHE = "chat_settings"
ACCENT = re.compile(r"^#[0-9a-f]{6}$")
MAX_ORIGINS = 20
LABELS = {
    "title": "заголовок чата",
    "greeting": "приветствие",
    "accent": "цвет",
    "launcher": "кнопка виджета",
    "widget_origins": "сайты с виджетом",
    "prechat_form": "анкета перед чатом",
}
LAUNCHER_LABELS = {"right": "справа внизу", "left": "слева внизу"}


class ChatSettings(msgspec.Struct, frozen=True):
    title: str = "Поддержка"
    greeting: str = "Здравствуйте! Напишите вопрос — ответит живой оператор."
    accent: str = "#2a9ef1"
    launcher: Literal["right", "left"] = "right"
    widget_origins: tuple[str, ...] = ()
    prechat_form: bool = False

    def as_audit(self, key: str) -> dict[str, Any]:
        value = getattr(self, key)
        if isinstance(value, tuple):
            value = " ".join(value) or "—"
        elif isinstance(value, bool):
            value = "включена" if value else "выключена"
        elif key == "launcher":
            value = LAUNCHER_LABELS[value]
        return {LABELS[key]: value}


DEFAULTS = ChatSettings()
KEYS = tuple(ChatSettings.__struct_fields__)


class Effective(msgspec.Struct, frozen=True):
    """What clients get: the stored settings with the environment's overrides applied."""

    settings: ChatSettings
    origins_from_env: bool
    prechat_from_env: bool


class ChatSettingsError(Refused):
    """Settings that cannot be saved; the message says why (in Russian)."""


# ------------------------------------------------------------------ reading


async def _load() -> ChatSettings:
    rows = await ChatSetting.select(ChatSetting.key, ChatSetting.value).run()
    stored = {
        row["key"]: msgspec.json.decode(row["value"])
        if isinstance(row["value"], str)
        else row["value"]
        for row in rows
        if row["key"] in KEYS
    }
    return msgspec.convert({**msgspec.structs.asdict(DEFAULTS), **stored}, ChatSettings)


_cache: shared_cache.Shared[ChatSettings] = shared_cache.Shared(CACHE, _load)


async def stored() -> ChatSettings:
    """The settings as the console keeps them (cached on every worker)."""
    return await _cache.get()


async def current() -> Effective:
    """The settings in force: the console's, overridden by the environment where it is set."""
    settings, env = await stored(), get_settings()
    env_origins = tuple(env.widget_origins.split())
    effective = msgspec.structs.replace(
        settings,
        widget_origins=env_origins or settings.widget_origins,
        prechat_form=settings.prechat_form if env.prechat_form is None else env.prechat_form,
    )
    return Effective(effective, bool(env_origins), env.prechat_form is not None)


async def allowed_origins() -> tuple[str, ...]:
    """The sites allowed to embed okno's chat (``OKNO_WIDGET_ORIGINS`` if set, else the
    console's list): the widget frame's ``frame-ancestors`` and the sockets' Origin check."""
    return (await current()).settings.widget_origins


# ------------------------------------------------------------------ changing


class SettingsForm(msgspec.Struct):
    title: str = ""
    greeting: str = ""
    accent: str = ""
    launcher: str = ""
    widget_origins: str = ""
    prechat_form: str = ""


HOST = re.compile(r"^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]*[a-z0-9])?$|^[0-9a-f:]+$")


def normalize_origin(text: str) -> str:
    """``https://shop.example.ru`` as a browser sends it in ``Origin``; or ChatSettingsError."""
    parts = urlsplit(text.strip())
    try:
        port = parts.port
        host = (parts.hostname or "").lower()
    except ValueError:
        port, host = None, ""
    if (
        parts.scheme not in ("http", "https")
        or not HOST.match(host)
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or "@" in parts.netloc
    ):
        raise ChatSettingsError(
            f"«{text.strip()[:80]}» — не адрес сайта: укажите его как https://shop.example.ru"
            " (схема и домен, без пути)"
        )
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def parse(form: SettingsForm) -> ChatSettings:
    title, greeting = form.title.strip(), form.greeting.strip()
    if not 1 <= len(title) <= 60:
        raise ChatSettingsError("заголовок чата: от 1 до 60 символов")
    if not 1 <= len(greeting) <= 500:
        raise ChatSettingsError("приветствие: от 1 до 500 символов")
    accent = form.accent.strip().lower()
    if not ACCENT.match(accent):
        raise ChatSettingsError("цвет: шесть шестнадцатеричных цифр после #, например #2a9ef1")
    if form.launcher not in LAUNCHER_LABELS:
        raise ChatSettingsError("кнопка виджета: выберите «справа внизу» или «слева внизу»")
    origins = tuple(dict.fromkeys(normalize_origin(o) for o in form.widget_origins.split()))
    if len(origins) > MAX_ORIGINS:
        raise ChatSettingsError(f"сайтов с виджетом может быть не больше {MAX_ORIGINS}")
    return ChatSettings(
        title=title,
        greeting=greeting,
        accent=accent,
        launcher=form.launcher,  # type: ignore[arg-type]
        widget_origins=origins,
        prechat_form=bool(form.prechat_form),
    )


async def save(actor: audit.Actor, form: SettingsForm) -> ChatSettings:
    """Store what changed; each change and its audit entry commit together, then every
    worker is told."""
    after = parse(form)
    async with database.transaction():
        # Read inside the transaction, not from the cache: "before" is what is stored now.
        before = await _load()
        changed = [key for key in KEYS if getattr(before, key) != getattr(after, key)]
        for key in changed:
            value = msgspec.json.encode(getattr(after, key)).decode()
            await (
                ChatSetting.insert(ChatSetting(key=key, value=value))
                .on_conflict(
                    target=ChatSetting.key,
                    action="DO UPDATE",
                    values=[ChatSetting.value, ChatSetting.updated_at],
                )
                .run()
            )
            await audit.record(
                actor,
                audit.Entity.SETTING,
                key,
                "изменена",
                before.as_audit(key),
                after.as_audit(key),
            )
    if changed:
        await shared_cache.announce(CACHE)
    return after
