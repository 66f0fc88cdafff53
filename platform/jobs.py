"""Background jobs every server process runs; each stops when its event is set.

They coordinate through the database (row locks with SKIP LOCKED, advisory locks), so several
workers may run them at once without doing anything twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from okno.platform.channels.outbound import sender as send_to_channels
from okno.platform.channels.polling import poller as poll_channels
from okno.platform.chat.console import snooze_ender as end_snoozes
from okno.platform.erasure.compaction import job as compact_destroyed_tables
from okno.platform.mailings.sending import runner as send_mailings
from okno.platform.processing_log.service import sealer as seal_processing_log
from okno.platform.webhooks.delivery import runner as send_webhooks

Job = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


def background_jobs() -> list[Job]:
    return [
        send_mailings,
        seal_processing_log,
        compact_destroyed_tables,
        send_to_channels,
        poll_channels,
        send_webhooks,
        end_snoozes,
    ]
