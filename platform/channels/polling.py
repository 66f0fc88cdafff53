"""Long polling: one poller per channel across all workers, through a lease row.

Each worker's job takes the lease of every channel nobody holds (or whose lease ran out),
polls it in a task of its own and renews the lease before each poll; a worker that dies lets
its lease run out and another takes over. The marker (MAX) or ``ts`` (VK) moves on only after
the updates it covers are stored, and each update is stored once by its own id, so a crash in
between loses nothing and doubles nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets

from okno.platform import database
from okno.platform.channels import queries
from okno.platform.channels.errors import ChannelError
from okno.platform.channels.schemas import Inbound
from okno.platform.channels.service import Bot, ChannelRow, receive, row_of
from okno.platform.errors import Refused

logger = logging.getLogger("okno.channels")
LEASE_SECONDS = 60
LOOK_SECONDS = 2.0
MAX_BACKOFF_SECONDS = 60
WORKER = f"{os.getpid()}-{secrets.token_hex(4)}"  # this process, as the lease names it
ANSWERED = "Готово"


async def handle(channel: ChannelRow, bot: Bot, update: Inbound) -> None:
    """Store one update (a webhook's or a poll's) and answer a button press."""
    try:
        await receive(channel, update)
    except Refused as refused:  # the update cannot be acted on; it must not block the rest
        logger.warning("channel %s: update refused (%s)", channel.id, type(refused).__name__)
    if update.callback_id is not None:
        with contextlib.suppress(ChannelError):  # only the messenger's spinner depends on it
            await bot.answer(update, ANSWERED)


async def poll_channel(channel_id: int, stop: asyncio.Event, owner: str) -> None:
    try:
        await _poll_while_held(channel_id, stop, owner)
    finally:
        # Let any worker take over at once (after a stop, a disable or an unexpected error).
        with contextlib.suppress(*database.UNAVAILABLE):
            async with database.acquire() as conn:
                await conn.execute(queries.RELEASE_LEASE, channel_id, owner)


async def _poll_while_held(channel_id: int, stop: asyncio.Event, owner: str) -> None:
    failures = 0
    while not stop.is_set():
        async with database.acquire() as conn:
            row = await conn.fetchrow(queries.TAKE_LEASE, channel_id, owner, LEASE_SECONDS)
        if row is None:  # disabled, switched to webhooks, or taken over after a stall
            return
        channel, bot = row_of(row), row_of(row).bot()
        try:
            updates, state = await bot.poll(row["poll_state"])
        except ChannelError as error:
            failures += 1
            async with database.acquire() as conn:
                await conn.execute(queries.CHANNEL_FAILED, channel_id, error.reason)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), min(2**failures, MAX_BACKOFF_SECONDS))
            continue
        failures = 0
        for update in updates:
            await handle(channel, bot, update)
        async with database.acquire() as conn:
            await conn.execute(queries.MOVE_MARKER, channel_id, owner, state)


async def poller(stop: asyncio.Event, owner: str = WORKER) -> None:
    """The background job: take free channels' leases and poll each in its own task."""
    polling: dict[int, asyncio.Task[None]] = {}
    try:
        while not stop.is_set():
            for channel_id, task in polling.items():
                if task.done() and not task.cancelled() and task.exception() is not None:
                    # The channel is free again and taken anew below; the type says what broke
                    # (never the update itself: it may hold PD).
                    failure = type(task.exception()).__name__
                    logger.error("channel %s: polling stopped by %s", channel_id, failure)
            polling = {key: task for key, task in polling.items() if not task.done()}
            try:
                async with database.acquire() as conn:
                    row = await conn.fetchrow(queries.TAKE_LEASE, None, owner, LEASE_SECONDS)
            except database.UNAVAILABLE as error:
                logger.warning("channel poller: database unavailable (%s)", type(error).__name__)
                row = None
            if row is not None and row["id"] not in polling:
                polling[row["id"]] = asyncio.create_task(poll_channel(row["id"], stop, owner))
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), LOOK_SECONDS)
    finally:
        await asyncio.gather(*polling.values(), return_exceptions=True)
