"""What the gateway's routes share (``Gateway``): the settings, the queue's async store (every
Redis access), the shared reader of the event stream, the counters behind ``/metrics``, the
coverage cache, the plugins that draw layer panels and the page templates."""

from __future__ import annotations

import asyncio
import functools
import time

from copydesk.document import Article
from copydesk.plugin_manager import PluginManager, build_plugin_manager
from copydesk.settings import Settings
from copydesk.views.html import environment
from copydesk.workers.gateway.event_hub import EventHub
from copydesk.workers.gateway.models import (
    GatewayError,
    Submitted,
    location,
    queue_full,
    unavailable,
)
from copydesk.workers.queue.async_store import AsyncStore
from copydesk.workers.queue.client import QueueUnavailable
from copydesk.workers.queue.records import ArticleStatus
from copydesk.workers.queue.window import is_out_of_memory
from jinja2 import Environment, PackageLoader
from redis.exceptions import RedisError


class Gateway:
    """The gateway's shared state and its queue operations (see the module docstring)."""

    #: Seconds a coverage count is reused: it reads every stored Document's runs.
    COVERAGE_TTL = 30.0

    def __init__(self, settings: Settings, store: AsyncStore | None = None) -> None:
        self.settings = settings
        self.store = store or AsyncStore(settings)
        self._hub: EventHub | None = None
        #: set when the process is told to stop (SIGTERM): open event streams end at once
        self.closing = False
        self.http_submitted = 0
        self._counted_to = "0-0"
        self.stream_counts = {"submitted": 0, "requeued": 0, "done": 0, "failed": 0}
        self._count_lock = asyncio.Lock()
        self._coverage: tuple[float, dict[str, dict[str, int]] | None] | None = None
        self.templates: Environment = environment(
            PackageLoader("copydesk.workers.gateway", "templates"))

    @functools.cached_property
    def plugins(self) -> PluginManager:
        """The installed plugins, loaded on the first view page: their ``layer_panel``
        hooks draw their layers' panels (the marks are drawn without them)."""
        return build_plugin_manager(self.settings)

    @property
    def hub(self) -> EventHub:
        """The shared reader of the event stream (``workers.gateway.event_hub``), with a
        client of its own, so event streams and ``?wait`` never take the submissions'."""
        if self._hub is None:
            self._hub = EventHub(self.store, self.settings.gateway.max_event_streams)
        return self._hub

    async def close(self) -> None:
        if self._hub is not None:
            await self._hub.close()
            self._hub = None
        await self.store.close()

    async def coverage(self) -> tuple[float, dict[str, dict[str, int]] | None]:
        """Per-stage coverage of the stored Documents, cached for ``COVERAGE_TTL``."""
        now = time.time()
        if self._coverage is None or now - self._coverage[0] > self.COVERAGE_TTL:
            self._coverage = (now, await self.store.coverage())
        return self._coverage

    # -- queue operations ----------------------------------------------------------------

    async def submit_all(self, articles: list[Article], force: bool) -> list[Submitted]:
        """Enqueue every article in one Redis transaction: all of them or none; 503
        ``queue_full`` (with ``Retry-After``) instead while the queue has no room."""
        try:
            pressure = await self.store.room_for(len(articles))
        except (RedisError, OSError) as exc:
            raise unavailable(exc) from None
        if pressure is not None:
            raise queue_full(f"the queue has no room now: {pressure}; retry later")
        try:
            replies = await self.store.submit_many(articles, force)
            await self._replicated()
        except (RedisError, OSError) as exc:
            if is_out_of_memory(exc) or "OOM" in str(exc):
                raise queue_full(f"Redis refused the submit for memory ({exc})") from None
            raise unavailable(exc) from None
        out = []
        for article, (created, status) in zip(articles, replies, strict=True):
            assert article.id is not None
            out.append(Submitted(id=article.id, outcome="queued" if created else "duplicate",
                                 status=status, location=location(article.id),
                                 moved_to_metadata=list(article.moved_fields)))
        self.http_submitted += sum(1 for s in out if s.outcome == "queued")
        return out

    async def _replicated(self) -> None:
        """The gateway's side of ``sentinel.wait_replicas`` (see ``Store.replicated``)."""
        wanted = self.settings.sentinel.wait_replicas
        if not wanted:
            return
        timeout = self.settings.sentinel.wait_timeout_ms
        acked = await self.store.replicated(wanted, timeout)
        if acked < wanted:
            raise GatewayError(503, "not_replicated",
                               f"the articles are queued on the master but reached {acked} of "
                               f"{wanted} replicas within {timeout} ms, so a failover now "
                               "could lose them; submit again (submits are idempotent)")

    async def state(self, article_id: str) -> tuple[ArticleStatus, str | None] | None:
        """The article's status record and, when it has one, its Document JSON (from the
        archive when Redis let the record go after a sink archived it)."""
        try:
            status = await self.store.status(article_id)
            if status is None:
                archived = await self.store.archived_json(article_id)
                if archived is None:
                    return None
                return ArticleStatus(id=article_id, status="done", has_document=True), archived
            raw = await self.store.document_json(article_id) if status.has_document else None
        except (RedisError, OSError, QueueUnavailable) as exc:
            raise unavailable(exc) from None
        return status, raw

    async def wait_finished(self, article_id: str, timeout: float) -> None:
        """Return when the article is done or failed (or unknown), or after ``timeout``.

        Listens on the shared reader (subscribed before the record is read, so a finish
        between the two is not missed) instead of blocking a connection of its own."""
        deadline = time.monotonic() + timeout
        try:
            async with self.hub.subscribe(limited=False) as sub:
                if await self.store.finished_or_unknown(article_id):
                    return
                while (remaining := deadline - time.monotonic()) > 0:
                    try:
                        item = await asyncio.wait_for(sub.queue.get(), timeout=remaining)
                    except TimeoutError:
                        return
                    if isinstance(item, BaseException):  # lagged, or Redis away: the
                        return  # caller reads the record and answers with what it says
                    _event_id, fields = item
                    if fields.get("id") == article_id and fields.get("status") in (
                            "done", "failed"):
                        return
        except (RedisError, OSError) as exc:
            raise unavailable(exc) from None

    async def count_events(self) -> dict[str, int]:
        """Advance the totals over the event stream since the last scrape."""
        async with self._count_lock:
            while True:
                entries = await self.store.events_after(self._counted_to, count=5000)
                for event_id, fields in entries:
                    self._counted_to = event_id
                    status = fields.get("status")
                    if status == "queued":
                        key = "requeued" if fields.get("retry") else "submitted"
                        self.stream_counts[key] += 1
                    elif status in ("done", "failed"):
                        self.stream_counts[status] += 1
                if len(entries) < 5000:
                    return dict(self.stream_counts)

    async def recent(self, limit: int) -> list[ArticleStatus]:
        """The most recently changed articles of every status, newest first."""
        try:
            return await self.store.recent(limit)
        except (RedisError, OSError, QueueUnavailable) as exc:
            raise unavailable(exc) from None
