"""The store's async twin, for the gateway: every Redis access of an asyncio program.

It speaks the same key schema (``Keys``), runs the same Lua scripts
(``workers.queue.scripts``) with the arguments the sync ``Store`` builds, and returns the same
records (``workers.queue.records``), on a ``redis.asyncio`` client, so the event loop never
waits on Redis and nothing outside the queue side knows a key name or a script. What the
gateway does per request (check for room, submit, wait for a finish, read events) is
natively async; the reads that walk many records (statuses, recent articles, the queue's
numbers, stored coverage, stories, sink backlogs, stage histograms, the archive) run the
sync client's own code in a worker thread, so the twin cannot drift from it (and a Redis
that is away is its ``QueueUnavailable``, with the client's message).
"""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio as aioredis
from copydesk.settings import Settings
from copydesk.storyindex import StoryEntry
from copydesk.workers.queue.client import Client
from copydesk.workers.queue.connection import async_client
from copydesk.workers.queue.keys import FINISHED
from copydesk.workers.queue.metrics import StageHistogram, read_histograms
from copydesk.workers.queue.protocol import article_payload, new_task_id
from copydesk.workers.queue.records import ArticleStatus, QueueInfo
from copydesk.workers.queue.scripts import SUBMIT
from copydesk.workers.queue.window import Pressure, judge, memory_from_info

#: An event of the stream: its id and fields.
Event = tuple[str, dict[str, str]]


class AsyncStore:
    """Async reads and writes of article records and events (see the module docstring)."""

    def __init__(self, settings: Settings, client: Client | None = None) -> None:
        self.settings = settings
        #: the sync client (and its store) whose arguments and reads the twin shares
        self.client = client or Client(settings)
        self.sync = self.client.store
        self.keys = self.sync.keys
        self._client: aioredis.Redis | None = None
        self._submit: Any = None

    @property
    def r(self) -> Any:
        if self._client is None:
            self._client = async_client(self.settings)
        return self._client

    def event_reader(self) -> Any:
        """A client of its own for blocking stream reads (``read_events``), so they never
        take the connections of submissions."""
        return async_client(self.settings)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # -- writing -----------------------------------------------------------------------

    async def room_for(self, count: int) -> Pressure | None:
        """Why ``count`` more articles should not be submitted now (the queue holds
        ``queue.max_waiting``, or Redis is near its ``maxmemory``), or None: the client's
        rule (``workers.queue.window.judge``) on numbers read without blocking."""
        async with self.r.pipeline(transaction=False) as pipe:
            pipe.zcard(self.keys.index("queued"))
            pipe.info("memory")
            waiting, info = await pipe.execute()
        return judge(int(waiting), memory_from_info(info), self.settings.queue, count)

    async def submit_many(self, articles: list[Any], force: bool) -> list[tuple[bool, str]]:
        """Enqueue every article (``Article``, with an id) in one transaction: all or none.
        Returns (created, status) per article, as ``Store.submit``."""
        if self._submit is None:
            self._submit = self.r.register_script(SUBMIT)
        async with self.r.pipeline(transaction=True) as pipe:
            for article in articles:
                keys, args = self.sync.submit_args(article.id, article_payload(article),
                                                   new_task_id(), force)
                await self._submit(keys=keys, args=args, client=pipe)
            replies = await pipe.execute()
        return [(bool(int(created)), str(status)) for created, status in replies]

    async def replicated(self, replicas: int, timeout_ms: int) -> int:
        """``Store.replicated``: how many replicas hold every write so far (fence + WAIT)."""
        async with self.r.pipeline(transaction=False) as pipe:
            pipe.incr(self.keys.replication_fence)
            pipe.execute_command("WAIT", replicas, timeout_ms)
            _, acked = await pipe.execute()
        return int(acked)

    # -- reading -----------------------------------------------------------------------

    async def finished_or_unknown(self, article_id: str) -> bool:
        """True when the article is done or failed, or has no record."""
        status = await self.r.hget(self.keys.article(article_id), "status")
        return status is None or status in FINISHED

    async def status(self, article_id: str) -> ArticleStatus | None:
        return await asyncio.to_thread(self.client.status, article_id)

    async def document_json(self, article_id: str) -> str | None:
        return await asyncio.to_thread(self.client.result_json, article_id)

    async def archived_json(self, article_id: str) -> str | None:
        """The Document of an id Redis let go, from the archive (the sinks), if kept."""
        found = await asyncio.to_thread(self.client.archived_json, [article_id])
        return found.get(article_id)

    async def recent(self, limit: int) -> list[ArticleStatus]:
        return await asyncio.to_thread(self.client.recent, limit)

    async def queue_info(self, dead_limit: int = 20) -> QueueInfo:
        return await asyncio.to_thread(self.client.queue_info, dead_limit)

    async def stage_histograms(self) -> list[StageHistogram]:
        return await asyncio.to_thread(read_histograms, self.sync.r, self.keys.stage_metrics)

    async def coverage(self) -> dict[str, dict[str, int]] | None:
        """Per stage of the live workers' pipeline: stored Documents current, stale, missing
        and failed; None when no live worker published its pipeline."""
        return await asyncio.to_thread(self.client.coverage)

    async def sink_backlogs(self) -> dict[str, dict[str, Any]]:
        """Per sink: finished Documents waiting in the outbox, and its dead letters."""
        return await asyncio.to_thread(self.client.sink_backlogs, 0)

    async def stories(self, limit: int) -> list[StoryEntry]:
        return await asyncio.to_thread(self.client.stories, limit)

    async def story(self, story_id: str) -> StoryEntry | None:
        return await asyncio.to_thread(self.client.story, story_id)

    # -- the event stream ----------------------------------------------------------------

    async def last_event_id(self) -> str:
        last = await self.r.xrevrange(self.keys.events, count=1)
        return str(last[0][0]) if last else "0-0"

    async def events_after(self, after: str, count: int = 500) -> list[Event]:
        """Events after ``after`` (exclusive), oldest first, at most ``count``."""
        page: Any = await self.r.xrange(self.keys.events, min=f"({after}", max="+",
                                        count=count)
        return [(str(eid), dict(fields)) for eid, fields in page]

    async def read_events(self, reader: Any, after: str, block_ms: int,
                          count: int = 500) -> list[Event]:
        """Block on ``reader`` (``event_reader()``) up to ``block_ms`` for events after
        ``after``."""
        got: Any = await reader.xread({self.keys.events: after}, count=count, block=block_ms)
        if not got:
            return []
        return [(str(eid), dict(fields)) for eid, fields in got[0][1]]
