"""Validating and displaying the PD fields a client enters in the chat's inline form."""

from __future__ import annotations

import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from okno.platform.chat.errors import ChatError

INPUTS = {"phone": "tel", "email": "email"}
TEXT_PATTERN = re.compile(r"^[^\d@<>{}\[\]\\/|#$%^*=+~`]{1,100}$")
ORDER_PATTERN = re.compile(r"^[A-Za-zА-Яа-яЁё0-9/_-]{1,40}$")


def normalize(field: str, value: str) -> str:
    """The value in its canonical form, or a refusal that says what is wrong."""
    value = value.strip()
    if field == "phone":
        try:
            number = phonenumbers.parse(value, "RU")
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            raise ChatError(
                "invalid_value", "это не похоже на номер телефона; пример: +7 912 345-67-89"
            )
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if field == "email":
        try:
            return validate_email(value, check_deliverability=False).normalized
        except EmailNotValidError:
            raise ChatError("invalid_value", "это не похоже на адрес электронной почты") from None
    if field == "order_number":
        if not ORDER_PATTERN.fullmatch(value):
            raise ChatError("invalid_value", "номер: буквы, цифры, дефис; до 40 символов")
        return value
    if not TEXT_PATTERN.fullmatch(value):
        raise ChatError("invalid_value", "укажите текстом, без цифр и спецсимволов, до 100 знаков")
    return re.sub(r"\s+", " ", value)


def masked(field: str, value: str) -> str:
    """What the shared transcript shows of a saved value: enough to recognise, not to copy."""
    if field == "phone":
        return value[:-7] + "***-**-" + value[-2:] if len(value) > 7 else "***"
    if field == "email":
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    return value[:1] + "***"
