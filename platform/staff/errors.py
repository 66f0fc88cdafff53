"""The staff feature's refusals (okno.platform.errors.Refused: the web layer answers them)."""

from __future__ import annotations

from datetime import datetime

from okno.platform.errors import Refused


class StaffError(Refused):
    """A staff-account operation that cannot be done; the message says why (in Russian)."""


class LoginFailedError(StaffError):
    def __init__(self, locked_until: datetime | None = None) -> None:
        self.locked_until = locked_until
        super().__init__(
            "неверный логин или пароль" if locked_until is None else "вход заблокирован"
        )
