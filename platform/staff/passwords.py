"""argon2id hashing, run in a worker thread so a login never blocks the event loop."""

from __future__ import annotations

import asyncio
import functools

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from okno.platform.settings import get_settings

MIN_LENGTH = 10


class WeakPasswordError(ValueError):
    pass


@functools.cache
def hasher() -> PasswordHasher:
    settings = get_settings()
    return PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
        type=Type.ID,
    )


def check_strength(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPasswordError(f"пароль должен быть не короче {MIN_LENGTH} символов")
    if len(password) > 1024:
        raise WeakPasswordError("пароль слишком длинный")


async def hash_password(password: str) -> str:
    check_strength(password)
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
