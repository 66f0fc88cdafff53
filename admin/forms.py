"""Form bodies of the staff pages (validated by the services, re-rendered with a message)."""

from __future__ import annotations

import msgspec


class LoginForm(msgspec.Struct):
    login: str = ""
    password: str = ""
    next: str = ""


class PasswordForm(msgspec.Struct):
    current: str = ""
    new: str = ""
    repeat: str = ""


class NewStaffForm(msgspec.Struct):
    login: str = ""
    display_name: str = ""
    role: str = ""
    password: str = ""
