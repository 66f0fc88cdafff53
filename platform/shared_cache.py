"""Small values read from the database that every worker keeps in memory (chat settings,
working hours): one read per change instead of one per page or frame.

A change is announced to every worker through the chat's NOTIFY channel (``{"cfg": name}``,
after commit), and each hub forgets its copy at once, so an admin's change reaches every
worker's next page and frame. A NOTIFY can be missed while a worker's LISTEN connection is
being restored; the hub then forgets every copy, and ``TTL`` bounds the staleness anyway (and
serves processes without a hub, such as a long-running command).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")
TTL = 30.0
_registry: dict[str, Shared[object]] = {}


class Shared(Generic[T]):
    def __init__(self, name: str, load: Callable[[], Awaitable[T]]) -> None:
        self.name, self._load = name, load
        self._value: T | None = None
        self._loaded_at = float("-inf")
        self._generation = 0
        self._lock: asyncio.Lock | None = None
        _registry[name] = self  # type: ignore[assignment]

    async def get(self, load: Callable[[], Awaitable[T]] | None = None) -> T:
        """The value; ``load`` reads it instead of the default loader when it is stale (a caller
        inside a transaction reads on its own connection: waiting for another pooled one while
        holding one can deadlock at pool size)."""
        if self._value is not None and time.monotonic() - self._loaded_at < TTL:
            return self._value
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._value is None or time.monotonic() - self._loaded_at >= TTL:
                generation = self._generation
                value = await (load or self._load)()
                if generation == self._generation:  # not forgotten while it was read
                    self._value, self._loaded_at = value, time.monotonic()
                return value
            return self._value

    def forget(self) -> None:
        self._generation += 1
        self._value = None


def forget(name: str | None = None) -> None:
    """Drop one cached value (or all): the next ``get`` reads the database."""
    for key, shared in _registry.items():
        if name is None or key == name:
            shared.forget()


async def announce(name: str) -> None:
    """Tell every worker (this one at once) that ``name`` changed; call after commit."""
    # deferred: the chat's notify module reads settings cached here (chat -> shared_cache).
    from okno.platform.chat import notify

    forget(name)
    await notify.changed_config(name)
