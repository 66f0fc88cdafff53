"""Fan-out inside one worker, fed by PostgreSQL LISTEN/NOTIFY from every worker.

A notification carries only ids (a JSON array of events, see ``notify``). Changed conversations
are marked dirty; one drain task reads the changes of every dirty conversation in two queries
(messages, summaries) and hands the encoded frames to each subscribed socket's bounded queue.
What changes while a pass runs is read by the next pass, so under load one pass serves many
messages. When the LISTEN connection comes back after a loss, and every few seconds as a safety
net for a notification lost with a crashed sender, subscribed conversations are re-read from
the table by version, so nothing is missed.

Staff sockets live only as long as their right: an announcement that an account changed
(event ``a``), each session's expiry (a timer) and a re-check every ``RECHECK_SECONDS`` close
the sockets whose session ended (4401) or whose role lost chat (4403), and end subscriptions to
conversations the socket may no longer see (``access_ended``); delivery checks each staff
subscriber against the conversation's team and assignee as the same pass read them.

Live frames never wait: a socket whose queue is full is closed (4008 "backlog"). A resync
(``resume``, ``open``) may be longer than the queue, so it waits for room instead, up to
``REPLAY_STALL`` seconds. The hub reads, and NOTIFYs are sent, through a small pool of the
hub's own, so delivery never queues behind writers holding the main pool's connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec

from okno.platform import clock, database, metrics, shared_cache
from okno.platform.chat import (
    access,
    messages,
    notify,
    queries,
    routing,
    service,
    summaries,
    viewers,
)
from okno.platform.chat.frames import encode
from okno.platform.chat.schemas import (
    AccessEnded,
    ColleagueTyping,
    MessageFrame,
    Read,
    Synced,
    Typing,
    Viewers,
)
from okno.platform.chat.scope import Scope
from okno.platform.reports import sla
from okno.platform.settings import get_settings

logger = logging.getLogger("okno.chat.hub")

CLOSE_BACKLOG = 4008
RECHECK_SECONDS = 10  # every staff socket's session and scope, as a safety net for lost NOTIFYs
REPLAY_STALL = 10.0
HUB_POOL_SIZE = 4
_closing: set[asyncio.Task[Any]] = set()  # strong references until each close is done


class Watch:
    """A socket's view of one conversation: what it has been sent, and a buffer while resyncing."""

    __slots__ = ("buffer", "high_water")

    def __init__(self) -> None:
        self.high_water = 0
        self.buffer: list[tuple[int, bytes]] | None = []


class Peer:
    """One WebSocket: frames go through a bounded queue drained by the socket's writer task."""

    def __init__(self, kind: str, close: Callable[[int, str], Any], backlog: int) -> None:
        self.kind = kind  # "client" or "staff"
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(backlog)
        self.watching: dict[int, Watch] = {}
        self.closed = False
        self._close = close
        self.scope: Scope | None = None
        self.conversation: int | None = None  # a client's own conversation
        self.resumed = False  # a client has sent ``resume``: it watches its conversation
        self.name: str | None = None  # a staff member's display name, for typing
        self.expiry: asyncio.TimerHandle | None = None  # a staff session's end

    def send(self, frame: bytes) -> None:
        if self.closed:
            return
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            # It stopped reading: drop it rather than slow anyone else. It resumes on reconnect.
            self.drop()

    async def replay(self, frame: bytes) -> None:
        """Queue one frame of a resync, waiting for room: history may exceed the backlog.

        Only this peer's own resync waits (live frames are buffered meanwhile); a peer that
        reads nothing for ``REPLAY_STALL`` seconds is dropped like any other stalled peer.
        """
        if self.closed:
            return
        try:
            await asyncio.wait_for(self.queue.put(frame), REPLAY_STALL)
        except TimeoutError:
            self.drop()

    async def settle(self) -> None:
        """Wait until the queue is at most half full, so the frames closing a resync fit."""
        deadline = asyncio.get_running_loop().time() + REPLAY_STALL
        while not self.closed and self.queue.qsize() > self.queue.maxsize // 2:
            if asyncio.get_running_loop().time() > deadline:
                self.drop()
                return
            await asyncio.sleep(0.005)

    def drop(self) -> None:
        if not self.closed:
            logger.warning("a %s socket stopped reading; closing it (backlog)", self.kind)
            self.end(CLOSE_BACKLOG, "backlog")

    def end(self, code: int, reason: str) -> None:
        """Close the socket with ``code``; nothing more is sent to it."""
        if not self.closed:
            self.closed = True
            if self.expiry is not None:
                self.expiry.cancel()
            closing = asyncio.get_running_loop().create_task(self._close(code, reason))
            _closing.add(closing)
            closing.add_done_callback(_closing.discard)

    def deliver(self, conversation: int, version: int, frame: bytes) -> None:
        watch = self.watching.get(conversation)
        if watch is None:
            return
        if watch.buffer is not None:
            watch.buffer.append((version, frame))
        elif version > watch.high_water:
            watch.high_water = version
            self.send(frame)

    def synced(self, conversation: int, version: int) -> None:
        """Resync sent everything up to ``version``: flush newer live frames, then go live."""
        watch = self.watching[conversation]
        watch.high_water = max(watch.high_water, version)
        buffered, watch.buffer = watch.buffer or [], None
        for buffered_version, frame in sorted(buffered, key=lambda item: item[0]):
            if buffered_version > watch.high_water:
                watch.high_water = buffered_version
                self.send(frame)


class Hub:
    def __init__(self) -> None:
        self.watchers: dict[int, set[Peer]] = defaultdict(set)
        self.staff: set[Peer] = set()
        # Client sockets of visitors who have not written yet, by visitor hash: their first
        # message (from any tab, on any worker) starts the conversation they then watch.
        self.lobby: dict[bytes, set[Peer]] = {}
        self.delivered: dict[int, int] = {}
        self.summary_cache: dict[int, tuple[Any, ...]] = {}
        self._listener: asyncpg.Connection | None = None
        self._dirty: set[int] = set()
        self._drain: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._maintenance: asyncio.Task[None] | None = None
        self._pool: asyncpg.Pool | None = None

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        # Fan-out reads and NOTIFYs get connections of their own: writers queued for a
        # busy conversation's row lock, or a full main pool, must not hold up delivery.
        self._pool = await asyncpg.create_pool(
            get_settings().database_url,
            min_size=1,
            max_size=HUB_POOL_SIZE,
            reset=database.keep_session,
        )
        notify.attach(self._pool)
        await self._listen()
        self._maintenance = asyncio.get_running_loop().create_task(self._maintain())

    async def stop(self) -> None:
        if self._maintenance:
            self._maintenance.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._maintenance
        for task in list(self._tasks):
            task.cancel()
        if self._listener is not None and not self._listener.is_closed():
            await self._listener.close()
        if self._pool is not None:
            notify.attach(None)
            await self._pool.close()

    def _acquire(self) -> Any:
        """A connection for the hub's reads: its own pool once started."""
        return self._pool.acquire() if self._pool is not None else database.acquire()

    async def _listen(self) -> None:
        self._listener = await asyncpg.connect(get_settings().database_url)
        await self._listener.add_listener(notify.CHANNEL, self._on_notify)

    def _spawn(self, coroutine: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            error = task.exception()
            logger.warning("hub task failed: %s", type(error).__name__)

    async def _maintain(self) -> None:
        """Reconnect LISTEN and resync; sweep for lost notifications, stale presence, the queue."""
        ticks = 0
        while True:
            await asyncio.sleep(1)
            ticks += 1
            try:
                if self._listener is None or self._listener.is_closed():
                    await self._listen()
                    logger.warning("LISTEN connection restored; resyncing")
                    shared_cache.forget()  # changes announced meanwhile were not heard
                    await self.resync_all()
                elif ticks % 3 == 0:
                    await self._catch_up()
                    self._kick()  # what a failed pass left dirty
                if ticks % RECHECK_SECONDS == 0:
                    await self.recheck(list(self.staff))
                if ticks % 5 == 0:
                    for staff_id in await routing.sweep_presence():
                        await notify.publish({"p": staff_id})
                    await routing.assign_waiting()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                logger.warning("hub maintenance: database unavailable (%s)", type(error).__name__)
            except Exception:
                # The safety net must outlive any one failure, or lost notifications stay lost.
                logger.exception("hub maintenance failed; retrying")

    async def resync_all(self) -> None:
        for conversation in list(self.watchers):
            self.refresh(conversation)
        if self._drain is not None:
            await asyncio.shield(self._drain)

    async def _catch_up(self) -> None:
        if not self.delivered:
            return
        async with self._acquire() as conn:
            rows = await conn.fetch(queries.LAST_VERSIONS, list(self.delivered))
        for row in rows:
            if row["last_version"] > self.delivered.get(row["id"], row["last_version"]):
                self.refresh(row["id"])

    # ------------------------------------------------------------ notifications

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        if not isinstance(payload, str):  # a NOTIFY payload is text; the stubs say object
            return
        try:
            events = msgspec.json.decode(payload, type=list[dict[str, Any]])
        except msgspec.DecodeError:
            return
        for event in events:
            self._on_event(event)

    def _on_event(self, event: dict[str, Any]) -> None:
        if "c" in event:
            self.refresh(event["c"])
        elif "r" in event:
            self._read(event["r"], event["s"], event["q"])
        elif "t" in event:
            self._typing(event["t"], event["s"], event.get("n"), event.get("i"))
        elif "w" in event:
            if any(p.kind == "staff" for p in self.watchers.get(event["w"], ())):
                self._spawn(self._viewers(event["w"]))
        elif "p" in event:
            self._spawn(self._presence(event["p"]))
        elif "n" in event:
            self._spawn(self._conversation_started(bytes.fromhex(event["n"])))
        elif "a" in event:
            staff_id = event["a"]
            peers = [p for p in self.staff if p.scope is not None and p.scope.staff_id == staff_id]
            if peers:
                self._spawn(self.recheck(peers))
        elif "cfg" in event:
            shared_cache.forget(event["cfg"])
            # Working hours and settings shape what waiting clients are told about the queue.
            waiting = [c for c, key in self.summary_cache.items() if _queued(key)]
            self._spawn(self._send_client_states(waiting))

    # ------------------------------------------------------------ staff sockets' rights

    async def recheck(self, peers: list[Peer]) -> None:
        """Re-read the sessions of ``peers`` (one query): close those whose session ended or
        whose role lost chat; give the others their scope as it is now, re-arm their expiry,
        and end subscriptions they may no longer see."""
        peers = [p for p in peers if not p.closed and p.scope and p.scope.session is not None]
        if not peers:
            return
        async with self._acquire() as conn:
            found = await access.sessions_now(conn, [p.scope.session for p in peers])  # type: ignore[union-attr,misc]
        still = []
        for peer in peers:
            assert peer.scope is not None
            assert peer.scope.session is not None
            now = found.get(peer.scope.session)
            if now is None:
                peer.end(access.SESSION_ENDED, "сеанс завершён")
            elif now.role not in service.CHAT_ROLES:
                peer.end(access.ROLE_WITHOUT_CHAT, "у роли нет доступа к диалогам")
            else:
                peer.scope = now.scope
                self.arm(peer, now.expires_at)
                still.append(peer)
        watched = sorted({c for peer in still for c in peer.watching})
        if not watched:
            return
        async with self._acquire() as conn:
            rows = await conn.fetch(queries.PLACES, watched)
        for row in rows:
            self._check_access(row["id"], row["team_id"], row["assignee_id"])

    def arm(self, peer: Peer, expires_at: datetime) -> None:
        """Re-check ``peer`` the moment its session expires (it may have been extended)."""
        if peer.expiry is not None:
            peer.expiry.cancel()
        loop = asyncio.get_running_loop()
        delay = max((expires_at - datetime.now(UTC)).total_seconds(), 0) + 0.05
        peer.expiry = loop.call_later(delay, lambda: self._spawn(self.recheck([peer])))

    def _check_access(
        self, conversation: int, team_id: int | None, assignee_id: int | None
    ) -> None:
        """Staff watching ``conversation`` who may no longer see it stop receiving it."""
        for peer in list(self.watchers.get(conversation, ())):
            if peer.kind == "staff" and not (
                peer.scope is not None and peer.scope.admits(team_id, assignee_id)
            ):
                self.end_access(peer, conversation)

    def end_access(self, peer: Peer, conversation: int) -> None:
        """``peer`` may no longer see ``conversation``: nothing more of it, and it is told."""
        self.unwatch(peer, conversation)
        peer.send(encode(AccessEnded(conversation)))

    def _read(self, conversation: int, side: str, seq: int) -> None:
        frame = encode(Read(side, seq))
        for peer in self.watchers.get(conversation, ()):
            if (peer.kind == "client") != (side == "client"):
                peer.send(frame)
        if side == "staff":
            self.refresh(conversation)

    def _typing(self, conversation: int, side: str, name: str | None, staff_id: int | None) -> None:
        frame = encode(Typing(side, name))
        # A colleague's typing, for the other staff with the conversation open (collision).
        colleague = (
            encode(ColleagueTyping(conversation, staff_id, name or ""))
            if side == "staff" and staff_id is not None
            else None
        )
        for peer in self.watchers.get(conversation, ()):
            if (peer.kind == "client") != (side == "client"):
                peer.send(frame)
            elif colleague is not None and peer.scope and peer.scope.staff_id != staff_id:
                peer.send(colleague)

    async def _viewers(self, conversation: int) -> None:
        async with self._acquire() as conn:
            found = await viewers.of(conn, conversation)
        frame = encode(Viewers(conversation, found))
        for peer in self.watchers.get(conversation, ()):
            if peer.kind == "staff":
                peer.send(frame)

    async def _presence(self, staff_id: int) -> None:
        affected = [c for c, cached in self.summary_cache.items() if cached[1] == staff_id]
        await self._send_client_states(affected)

    async def _conversation_started(self, visitor_hash: bytes) -> None:
        peers = self.lobby.pop(visitor_hash, set())
        if not peers:
            return
        async with self._acquire() as conn:
            conversation = await conn.fetchval(queries.VISITORS_CONVERSATION, visitor_hash)
        if conversation is None:
            return
        for peer in peers:
            if peer.conversation is None:
                peer.conversation = conversation
                reached = await self.watch(peer, conversation, 0, for_client=True)
                peer.send(encode(Synced(reached)))

    async def send_state_to(self, peer: Peer, conversation: int | None) -> None:
        async with self._acquire() as conn:
            row = await summaries.one(conn, conversation) if conversation else None
            peer.send(encode(await summaries.client_state(conn, row)))

    # ------------------------------------------------------------ subscriptions

    async def watch(self, peer: Peer, conversation: int, after: int, *, for_client: bool) -> int:
        """(Re)subscribe ``peer``; send it every change after ``after``; return the version reached.

        Live changes that arrive meanwhile are buffered and flushed after the resync, so the
        peer gets each version once, in order.

        A conversation this socket already watches keeps what it was sent: a repeated
        ``open``/``resume`` (or a client's own resume racing the lobby's) sends only versions
        it has not had, so each version reaches a socket once whatever the order of frames.
        """
        watch = peer.watching.get(conversation)
        fresh = watch is None
        if watch is None:
            watch = peer.watching[conversation] = Watch()
        elif watch.buffer is None:
            watch.buffer = []  # live frames wait behind this resync
        self.watchers[conversation].add(peer)
        try:
            async with self._acquire() as conn:
                if conversation not in self.delivered:
                    self.delivered[conversation] = (
                        await conn.fetchval(queries.LAST_VERSION, conversation) or 0
                    )
                rows = await messages.changed_since(
                    conn, conversation, after, for_client=for_client
                )
        except BaseException:
            # Not subscribed after all (the database is away): no buffer left filling for ever.
            if fresh:
                self.unwatch(peer, conversation)
            elif peer.watching.get(conversation) is watch:
                peer.synced(conversation, watch.high_water)
            raise
        for row in rows:
            if row["version"] <= watch.high_water:
                continue  # this socket has it already
            watch.high_water = row["version"]
            await peer.replay(_message_frame(row, for_client))
        reached = max(rows[-1]["version"] if rows else after, watch.high_water)
        await peer.settle()
        if peer.watching.get(conversation) is not watch:
            return reached  # left (or lost access) meanwhile
        peer.synced(conversation, reached)
        if for_client:
            await self._send_client_states([conversation], cache=True)
        return reached

    def unwatch(self, peer: Peer, conversation: int) -> None:
        peer.watching.pop(conversation, None)
        watchers = self.watchers.get(conversation)
        if watchers is not None:
            watchers.discard(peer)
            if not watchers:
                del self.watchers[conversation]
                self.delivered.pop(conversation, None)
                self.summary_cache.pop(conversation, None)

    def forget(self, peer: Peer) -> None:
        if peer.expiry is not None:
            peer.expiry.cancel()
        for conversation in list(peer.watching):
            self.unwatch(peer, conversation)
        self.staff.discard(peer)
        for visitor_hash, peers in list(self.lobby.items()):
            peers.discard(peer)
            if not peers:
                del self.lobby[visitor_hash]

    # ------------------------------------------------------------ delivery

    def refresh(self, conversation: int) -> None:
        """Forward what changed in ``conversation`` with the next drain pass."""
        self._dirty.add(conversation)
        self._kick()

    def _kick(self) -> None:
        if self._dirty and (self._drain is None or self._drain.done()):
            self._drain = self._spawn(self._drain_dirty())

    async def _drain_dirty(self) -> None:
        while self._dirty:
            batch, self._dirty = self._dirty, set()
            try:
                await self._refresh_batch(sorted(batch))
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                # Kept for the next notification or the maintenance tick, not retried in a loop.
                self._dirty |= batch
                raise

    async def _refresh_batch(self, batch: list[int]) -> None:
        watched = {
            c: self.delivered[c] for c in batch if self.watchers.get(c) and c in self.delivered
        }
        summarised = batch if self.staff else [c for c in batch if self.watchers.get(c)]
        async with self._acquire() as conn:
            rows = await messages.changed_since_many(conn, watched) if watched else []
            found = await summaries.many(conn, summarised) if summarised else []
        # Read after the messages, the summaries say who may see each conversation now: a
        # transfer away ends staff subscriptions before anything of it is delivered.
        for summary in found:
            self._check_access(summary["id"], summary["team_id"], summary["assignee_id"])
        # A pass may carry a burst (many changes, many conversations): yield after each frame
        # fanned out, so sockets' writers drain their queues as they fill. Otherwise a burst
        # larger than OKNO_WS_BACKLOG would close peers that read perfectly well.
        for row in rows:
            self._deliver(row)
            await asyncio.sleep(0)
        stale: set[int] = set()
        # The staff summaries' SLA states, from the cached targets and hours (no query).
        checker = await sla.Checker.load() if self.staff and found else None
        now = clock.now()
        for summary in found:
            stale |= self._summary_changed(summary, checker, now)
            await asyncio.sleep(0)
        await self._send_client_states(sorted(stale), known={f["id"]: f for f in found})

    def _deliver(self, row: asyncpg.Record) -> None:
        conversation = row["conversation_id"]
        staff_frame = _message_frame(row, for_client=False)
        client_frame = None if row["internal"] else _message_frame(row, for_client=True)
        peers = 0
        for peer in list(self.watchers.get(conversation, ())):
            frame = staff_frame if peer.kind == "staff" else client_frame
            if frame is not None:
                peer.deliver(conversation, row["version"], frame)
                peers += 1
        if peers and row["edited_at"] is None and row["deleted_at"] is None:
            # A new message (an edit or deletion is not a delivery); its age on this host's
            # clock, which NTP keeps within milliseconds of the database's.
            metrics.MESSAGES_DELIVERED.inc(peers)
            metrics.DELIVERY_LAG.observe(
                max(0.0, datetime.now(UTC).timestamp() - row["created_at"].timestamp())
            )
        if conversation in self.delivered:
            self.delivered[conversation] = max(self.delivered[conversation], row["version"])

    def _summary_changed(
        self, summary: asyncpg.Record, checker: sla.Checker | None, now: datetime
    ) -> set[int]:
        """Send staff the new summary; return the conversations whose clients need a new state."""
        conversation = summary["id"]
        if self.staff and checker is not None:
            frame = encode(summaries.for_staff(summary, checker, now))
            for peer in list(self.staff):
                if peer.scope is not None and peer.scope.admits(
                    summary["team_id"], summary["assignee_id"]
                ):
                    peer.send(frame)
        if not self.watchers.get(conversation):
            return set()
        key = (summary["status"], summary["assignee_id"], summary["team_id"])
        previous = self.summary_cache.get(conversation)
        self.summary_cache[conversation] = key
        stale = {conversation} if previous != key else set()
        if _moves_queue(previous, key):
            # It left a queue (or moved to another team's): those waiting behind it move up.
            left = key[2] if previous is None else previous[2]
            stale |= {
                other
                for other, cached in self.summary_cache.items()
                if other != conversation and _queued(cached) and cached[2] == left
            }
        return stale

    async def _send_client_states(
        self,
        conversations: list[int],
        *,
        cache: bool = False,
        known: dict[int, asyncpg.Record] | None = None,
    ) -> None:
        """Send each conversation's clients its ``state``: two queries however many there are.
        Summaries already ``known`` (read by the same pass) are not read again."""
        known = known or {}
        wanted = [
            c for c in conversations if any(p.kind == "client" for p in self.watchers.get(c, ()))
        ]
        if not wanted:
            return
        unknown = [c for c in wanted if c not in known]
        async with self._acquire() as conn:
            rows = [known[c] for c in wanted if c in known]
            rows += await summaries.many(conn, unknown) if unknown else []
            states = await summaries.client_states(conn, rows)
        for row, state in zip(rows, states, strict=True):
            if cache:
                self.summary_cache[row["id"]] = (row["status"], row["assignee_id"], row["team_id"])
            frame = encode(state)
            for peer in self.watchers.get(row["id"], ()):
                if peer.kind == "client":
                    peer.send(frame)


def _message_frame(row: asyncpg.Record, for_client: bool) -> bytes:
    return encode(MessageFrame(messages.wire(row, for_client=for_client)))


def _queued(key: tuple[Any, ...]) -> bool:
    """Whether a (status, assignee, team) summary is waiting in its team's queue."""
    return key[1] is None and key[0] != "resolved"


def _moves_queue(previous: tuple[Any, ...] | None, key: tuple[Any, ...]) -> bool:
    """Whether a change shifts the queue positions of the others in its team.

    Only leaving the queue does (or moving between teams): a newcomer queues behind everyone.
    A conversation this worker sees for the first time counts as having left only if it is
    not queued now; otherwise every first sight would re-send the state of every waiting
    client here, one query each (quadratic with two workers and thousands of waiting chats).
    """
    if previous is None:
        return not _queued(key)
    if previous[2] != key[2]:
        return True
    return _queued(previous) and not _queued(key)
