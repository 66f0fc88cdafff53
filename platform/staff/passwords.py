"""argon2id hashing, run in a worker thread so a login never blocks the event loop."""

from __future__ import annotations

import asyncio
import functools
import re
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from okno.platform.errors import Refused
from okno.platform.settings import get_settings

MIN_LENGTH = 10
MIN_DISTINCT = 5
COMMON_LIST = Path(__file__).with_name("common_passwords.txt")


class WeakPasswordError(Refused):
    """A password the policy refuses; the message says why (in Russian)."""


@functools.cache
def hasher() -> PasswordHasher:
    settings = get_settings()
    return PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
        type=Type.ID,
    )


@functools.cache
def common_passwords() -> frozenset[str]:
    """Passwords that guessing tools try first (see the list's header for its source)."""
    lines = COMMON_LIST.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def check_strength(password: str, login: str | None = None) -> None:
    """Refuses short, long, common and repetitive passwords, and the login itself."""
    if len(password) < MIN_LENGTH:
        raise WeakPasswordError(f"пароль должен быть не короче {MIN_LENGTH} символов")
    if len(password) > 1024:
        raise WeakPasswordError("пароль слишком длинный")
    lowered = password.lower()
    if lowered in common_passwords():
        raise WeakPasswordError("это один из самых распространённых паролей, выберите другой")
    if len(set(lowered)) < MIN_DISTINCT:
        raise WeakPasswordError(f"в пароле должно быть хотя бы {MIN_DISTINCT} разных символов")
    if login:
        # The login, alone or with only digits and signs around it ("ivanov2024!").
        bare_login = re.sub(r"[\W\d_]+", "", login.lower())
        bare = re.sub(r"[\W\d_]+", "", lowered)
        if lowered == login.lower() or (bare_login and bare == bare_login):
            raise WeakPasswordError("пароль не должен повторять логин")


async def hash_password(password: str, login: str | None = None) -> str:
    check_strength(password, login)
    return await asyncio.to_thread(hasher().hash, password)


async def rehash(password: str) -> str:
    """A new hash of a password that has just been verified (the profile changed): no strength
    rules here, or an account with an old weak password could not sign in to change it."""
    return await asyncio.to_thread(hasher().hash, password)


def _verify(stored_hash: str, password: str) -> bool:
    try:
        return hasher().verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(stored_hash: str, password: str) -> bool:
    return await asyncio.to_thread(_verify, stored_hash, password)


def needs_rehash(stored_hash: str) -> bool:
    return hasher().check_needs_rehash(stored_hash)


@functools.cache
def dummy_hash() -> str:
    """Verified against when a login is unknown, so timing does not reveal which logins exist."""
    return hasher().hash("okno-no-such-user")
