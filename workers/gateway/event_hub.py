"""One reader of the event stream per gateway process, shared by every open event stream.

Each ``GET /v1/events`` client and each ``?wait=`` request used to hold one connection of
the gateway's Redis pool in a blocking ``XREAD`` for as long as it lasted, so about a hundred
of them took every connection and submissions answered 503. Here a single task blocks on
the stream (one connection of its own) and hands each batch of entries to every
subscriber's queue; submissions keep the pool to themselves.

A subscriber that resumes from an older stream id first reads the entries it missed with
``XRANGE`` (short, non-blocking commands), then takes the live entries from its queue,
skipping any it already had, so it sees every entry once and in order. A subscriber whose
queue overflows (a client that stopped reading) is told it lagged and should reconnect
with ``Last-Event-ID``; the others are not held up by it. At most ``max_subscribers`` may
be open; one more is refused (``TooManySubscribers``) rather than slowing everyone.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from copydesk.logs import get_logger

log = get_logger("copydesk.gateway.events")

Entry = tuple[str, dict[str, str]]


def stream_key(event_id: str) -> tuple[int, int]:
    """A stream id as a sortable pair (``1732560000000-3`` → ``(1732560000000, 3)``)."""
    ms, _, seq = event_id.partition("-")
    return int(ms), int(seq or 0)


class TooManySubscribers(RuntimeError):
    """The gateway already serves its maximum of event streams."""


class Lagged(RuntimeError):
    """The subscriber fell too far behind and was dropped."""


class HubUnavailable(RuntimeError):
    """Redis failed under the shared reader; the message says how."""


@dataclass(eq=False)
class Subscription:
    """One subscriber: a bounded queue of entries (or an error) from the shared reader."""

    queue: asyncio.Queue[Entry | BaseException] = field(
        default_factory=lambda: asyncio.Queue(maxsize=10_000))
    #: counts toward the hub's ``max_subscribers`` (event streams do; a ``?wait`` does not)
    limited: bool = True
    lagged: bool = False

    def offer(self, item: Entry | BaseException) -> None:
        if self.lagged:
            return
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.lagged = True
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
            self.queue.put_nowait(Lagged("the event stream fell behind; reconnect with "
                                         "Last-Event-ID to resume"))


class EventHub:
    """The shared reader (see the module docstring)."""

    def __init__(self, store: Any, max_subscribers: int, block_ms: int = 2000,
                 give_up_after: float = 10.0) -> None:
        #: the queue's async store (``AsyncStore``); ``reader`` blocks on the stream, a
        #: client of its own, made when the first subscriber starts the hub
        self.store = store
        self.reader: Any = None
        self.max_subscribers = max_subscribers
        #: under redis-py's default socket timeout (5 s), so an idle block is not an error
        self.block_ms = block_ms
        #: Redis failing this long ends the subscribers' streams (a blip is ridden out)
        self.give_up_after = give_up_after
        self.subscribers: set[Subscription] = set()
        self._task: asyncio.Task[None] | None = None
        self._cursor = "$"
        #: catch-up reads run a few at a time, so a crowd of clients resuming at once (after
        #: a gateway restart, say) queues here instead of exhausting the client's pool
        self._catching_up = asyncio.Semaphore(8)
        self._starting = asyncio.Lock()

    @property
    def open(self) -> int:
        return len(self.subscribers)

    async def _start(self) -> None:
        async with self._starting:  # a crowd of first subscribers starts one reader
            if self._task is not None and not self._task.done():
                return
            self._cursor = await self.store.last_event_id()
            if self.reader is None:
                self.reader = self.store.event_reader()
            self._task = asyncio.create_task(self._run(), name="copydesk-event-hub")

    async def _run(self) -> None:
        failing_since: float | None = None
        while self.subscribers:
            try:
                batch = await self.store.read_events(self.reader, self._cursor,
                                                     self.block_ms)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                now = asyncio.get_running_loop().time()
                failing_since = failing_since if failing_since is not None else now
                if now - failing_since >= self.give_up_after:
                    log.warning("event stream unreadable; closing event streams",
                                error=f"{type(exc).__name__}: {exc}")
                    failure = HubUnavailable(f"{type(exc).__name__}: {exc}")
                    for sub in list(self.subscribers):
                        sub.offer(failure)
                    failing_since = None
                await asyncio.sleep(0.5)
                continue
            failing_since = None
            if batch:
                self._cursor = batch[-1][0]
            for sub in list(self.subscribers):
                for entry in batch:
                    sub.offer(entry)

    @contextlib.asynccontextmanager
    async def subscribe(self, limited: bool = True) -> AsyncIterator[Subscription]:
        """A subscription for the ``async with`` block (``limited``: counts toward
        ``max_subscribers``, as event streams do; a ``?wait`` does not)."""
        if limited and sum(1 for s in self.subscribers if s.limited) >= self.max_subscribers:
            raise TooManySubscribers(
                f"this gateway already serves {self.max_subscribers} event streams "
                "(setting gateway.max_event_streams)")
        sub = Subscription(limited=limited)
        self.subscribers.add(sub)
        try:
            await self._start()
            yield sub
        finally:
            self.subscribers.discard(sub)

    async def entries(self, sub: Subscription, after: str | None,
                      idle: float) -> AsyncIterator[Entry | None]:
        """Every entry after stream id ``after`` (None: only those written from now on), in
        order: the missed ones from ``XRANGE``, then the live ones; ``None`` after ``idle``
        seconds without one (for keep-alives). Raises ``Lagged`` or ``HubUnavailable``."""
        seen = (-1, -1)
        last = after
        while last is not None:  # catch up on what was written before the subscription
            async with self._catching_up:
                page = await self.store.events_after(last, count=500)
            for eid, fields in page:
                last = eid
                seen = stream_key(last)
                yield last, fields
            if len(page) < 500:
                break
        while True:
            try:
                item = await asyncio.wait_for(sub.queue.get(), timeout=idle)
            except TimeoutError:
                yield None
                continue
            if isinstance(item, BaseException):
                raise item
            if stream_key(item[0]) > seen:
                seen = stream_key(item[0])
                yield item

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        if self.reader is not None:
            await self.reader.aclose()
            self.reader = None
