"""The Python client of the copydesk queue: submit articles, read statuses and results, wait.

    from copydesk.workers.queue.client import Client

    client = Client()                      # settings from COPYDESK_* / the TOML file
    sub = client.submit({"text": "…", "title": "…"})
    status = client.wait(sub.id, timeout=60)
    doc = client.result(sub.id)            # a core.Document, or None

Everything goes through Redis only (no Celery import): a submission validates the article,
then one Lua script creates the status record, appends the ``queued`` event and LPUSHes the
Celery message, so a record never exists without its message or the other way round.
``wait`` and ``follow`` block on the event stream instead of polling.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

from copydesk.document import Article, Document, InvalidArticle
from copydesk.extra_fields import log_moved_fields
from copydesk.jsonsafe import UnsafeJSON, loads, printable, value_problem
from copydesk.settings import Settings, load_settings
from copydesk.storyindex import StoryEntry, StoryIndex
from copydesk.workers.queue.connection import describe, sync_client
from copydesk.workers.queue.keys import FINISHED, keys_for
from copydesk.workers.queue.protocol import article_payload, new_task_id
from copydesk.workers.queue.records import ArticleStatus, QueueInfo
from copydesk.workers.queue.store import Store
from copydesk.workers.queue.window import Pressure, Window, is_out_of_memory, judge

if TYPE_CHECKING:
    from copydesk.plugin_manager import PluginManager
    from copydesk.provenance import PipelineSpec
    from copydesk.workers.queue.reprocess import StoredPlan
from pydantic_core import PydanticSerializationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

__all__ = [
    "ArticleStatus",
    "Client",
    "InvalidArticle",
    "QueueFull",
    "QueueUnavailable",
    "SubmitResult",
]

#: Called while a submit waits for room: what it waits for, and seconds waited so far.
OnWait = Callable[[Pressure, float], None]


class QueueUnavailable(RuntimeError):
    """Redis cannot be reached (or refused the command); the message names the server."""


class QueueFull(QueueUnavailable):
    """The queue had no room (``queue.max_waiting`` articles waiting, or Redis near its
    ``maxmemory``) for as long as the submit was allowed to wait."""


class NotReplicated(QueueUnavailable):
    """A submit is on the master but not yet on ``sentinel.wait_replicas`` replicas."""


@dataclass
class SubmitResult:
    """The outcome of submitting one article.

    ``outcome`` is ``queued`` (a message was enqueued), ``duplicate`` (the id is already
    queued, running or done: nothing was enqueued; ``status`` says which) or ``invalid``
    (refused; ``error`` says why; only from ``submit_many``, ``submit`` raises instead).
    """

    id: str | None
    outcome: str
    status: str | None = None
    task_id: str | None = None
    error: str | None = None

    @property
    def queued(self) -> bool:
        return self.outcome == "queued"

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Client:
    """Submit to and read from the copydesk queue in Redis."""

    def __init__(self, settings: Settings | None = None, redis_url: str | None = None,
                 retries: int = 1) -> None:
        self.settings = settings or load_settings()
        if redis_url:
            self.settings = self.settings.model_copy(update={"redis_url": redis_url})
        self.url = self.settings.redis_url
        self.where = describe(self.settings)
        self.store = Store(sync_client(self.settings, retries=retries),
                           keys_for(self.settings), self.settings.worker)
        self.window = Window(self.store.r, self.store.keys, self.settings.queue)
        self._plugins: PluginManager | None = None  # built on the first read from the archive

    # -- errors ------------------------------------------------------------------------

    @contextmanager
    def _redis(self, doing: str) -> Iterator[None]:
        try:
            yield
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise QueueUnavailable(
                f"cannot {doing}: {self.where} is unavailable ({exc}); "
                "is redis-server running and COPYDESK_REDIS_URL right?"
            ) from None

    def _replicated(self) -> None:
        """With ``sentinel.wait_replicas``, make sure what was just submitted reached that
        many replicas, so a failover cannot lose a submit this client reported as queued."""
        wanted = self.settings.sentinel.wait_replicas
        if not wanted:
            return
        acked = self.store.replicated(wanted, self.settings.sentinel.wait_timeout_ms)
        if acked < wanted:
            raise NotReplicated(
                f"the submit reached {acked} of {wanted} replicas within "
                f"{self.settings.sentinel.wait_timeout_ms} ms, so a failover now could lose "
                "it; submit again (submits are idempotent) or lower sentinel.wait_replicas")

    def ping(self) -> bool:
        with self._redis("reach the queue"):
            return bool(self.store.r.ping())

    # -- submitting --------------------------------------------------------------------

    def _prepare(self, article: Article | dict[str, Any] | str) -> tuple[Article, dict[str, Any]]:
        """The validated article and the JSON object its message will carry; any input that
        cannot become both (invalid, too long, unencodable) raises ``InvalidArticle``."""
        rules = self.settings.article_rules()
        if isinstance(article, Article):
            # an Article may have been built without validation (model_construct): check again
            problem = value_problem(article.__dict__, "article", strict_types=False)
            if problem:
                raise InvalidArticle(problem)
            rules.check(article)
            valid = article
        else:
            valid = rules.parse(article)
        log_moved_fields(valid, "client")
        try:
            return valid, article_payload(valid)
        except (PydanticSerializationError, ValueError) as exc:
            raise InvalidArticle(f"article {valid.id}: cannot be written as JSON: "
                                 f"{printable(str(exc))}") from None

    # -- back-pressure -------------------------------------------------------------------

    def wait_for_room(self, incoming: int = 1, max_wait: float | None = None,
                      on_wait: OnWait | None = None) -> int:
        """Wait until the queue has room, and return for how many articles (at most
        ``incoming``): fewer than ``queue.max_waiting`` wait and Redis is below
        ``queue.memory_high`` of its ``maxmemory``. Raises ``QueueFull`` after
        ``max_wait`` seconds (default ``queue.max_wait``); ``on_wait`` is called at each
        look while waiting."""
        return self._room(incoming, _Deadline(self._max_wait(max_wait)), on_wait)

    def _max_wait(self, max_wait: float | None) -> float:
        return self.settings.queue.max_wait if max_wait is None else max_wait

    def _room(self, incoming: int | Sequence[int], deadline: _Deadline,
              on_wait: OnWait | None) -> int:
        """How many of the articles (their count, or their sizes in bytes) fit now: under
        ``queue.max_waiting``, and under ``queue.memory_high`` of Redis memory by a
        generous estimate of what each costs there; waits while none does."""
        sizes = incoming if isinstance(incoming, Sequence) else [0] * incoming
        while True:
            with self._redis("read the queue's size"):
                waiting, memory = self.window.waiting(), self.window.memory()
            pressure = judge(waiting, memory, self.settings.queue)
            room = min(self.settings.queue.max_waiting - waiting, len(sizes))
            if pressure is None and room > 0:
                deadline.restart()  # max_wait bounds each wait, not the whole submission
                return max(1, _fitting(sizes[:room], self.window.memory_room(memory)))
            assert pressure is not None or room <= 0
            self._wait(pressure or Pressure("queue_full", "the queue is full", waiting, 0, 0),
                       deadline, on_wait)

    def _wait(self, pressure: Pressure, deadline: _Deadline, on_wait: OnWait | None) -> None:
        if deadline.over:
            raise QueueFull(
                f"the queue had no room for {deadline.seconds:g} s: {pressure}; start more "
                "workers, or raise queue.max_waiting or the wait (--max-wait); submitting "
                "again skips what is already queued or done")
        if on_wait is not None:
            on_wait(pressure, deadline.waited)
        time.sleep(min(self.settings.queue.poll_interval, max(deadline.left, 0.01)))

    # -- submitting --------------------------------------------------------------------

    def submit(self, article: Article | dict[str, Any] | str, force: bool = False,
               max_wait: float | None = None) -> SubmitResult:
        """Validate and enqueue one article (an ``Article``, a dict or a JSON string).

        Raises ``InvalidArticle`` for bad input, ``QueueUnavailable`` when Redis is down
        and ``QueueFull`` when the queue had no room for ``max_wait`` seconds (default
        ``queue.max_wait``). An id that is already queued, running or done is not enqueued
        again (``duplicate``) unless ``force`` (which re-processes a done article).
        """
        valid, payload = self._prepare(article)
        deadline = _Deadline(self._max_wait(max_wait))
        return next(self._flush([(valid, payload, new_task_id())], force, deadline, None))

    def submit_many(self, articles: Iterable[Article | dict[str, Any] | str],
                    force: bool = False, chunk_size: int = 500,
                    max_wait: float | None = None,
                    on_wait: OnWait | None = None) -> list[SubmitResult]:
        """Validate and enqueue many articles, pipelined in chunks; one result per input,
        in order. Invalid articles come back with outcome ``invalid`` and are not enqueued.
        Before each chunk it waits for room (``wait_for_room``); ``QueueFull`` after
        ``max_wait`` seconds leaves the chunks before it submitted."""
        return list(self.iter_submit(articles, force, chunk_size, max_wait, on_wait))

    def iter_submit(self, articles: Iterable[Article | dict[str, Any] | str],
                    force: bool = False, chunk_size: int = 500,
                    max_wait: float | None = None,
                    on_wait: OnWait | None = None) -> Iterator[SubmitResult]:
        """``submit_many`` as a stream: results come chunk by chunk, in input order, so a
        file of any length is submitted in constant memory. ``QueueFull`` is raised after
        the results of everything submitted before it."""
        deadline = _Deadline(self._max_wait(max_wait))
        pending: list[_Pending] = []
        ready = 0
        for item in articles:
            try:
                valid, payload = self._prepare(item)
            except InvalidArticle as exc:
                pending.append(SubmitResult(id=_given_id(item), outcome="invalid",
                                            error=str(exc)))
                continue
            pending.append((valid, payload, new_task_id()))
            ready += 1
            if ready >= chunk_size:
                yield from self._flush(pending, force, deadline, on_wait)
                pending.clear()
                ready = 0
        yield from self._flush(pending, force, deadline, on_wait)

    def _flush(self, pending: list[_Pending], force: bool, deadline: _Deadline,
               on_wait: OnWait | None) -> Iterator[SubmitResult]:
        """Submit the articles of ``pending`` in slices the queue has room for, yielding
        every result in input order as soon as it and those before it are known."""
        done: dict[int, SubmitResult] = {i: p for i, p in enumerate(pending)
                                         if isinstance(p, SubmitResult)}
        todo = [i for i, p in enumerate(pending) if not isinstance(p, SubmitResult)]
        shown = 0
        while True:
            while shown < len(pending) and shown in done:
                yield done[shown]
                shown += 1
            if not todo:
                return
            try:
                room = self._room([_cost(pending[i]) for i in todo], deadline, on_wait)
            except QueueFull:
                yield from (done[i] for i in sorted(done) if i >= shown)
                raise
            part, todo = todo[:room], todo[room:]
            items = [p for i in part if not isinstance(p := pending[i], SubmitResult)]
            outcomes = self._submit_slice(items, force, deadline, on_wait)
            for i, outcome in zip(part, outcomes, strict=True):
                if outcome is None:
                    todo.append(i)  # refused for memory: again once there is room
                else:
                    done[i] = outcome
            todo.sort()

    def _submit_slice(self, items: Sequence[tuple[Article, dict[str, Any], str]],
                      force: bool, deadline: _Deadline, on_wait: OnWait | None
                      ) -> list[SubmitResult | None]:
        """One pipelined round trip; ``None`` for each article Redis refused because it
        is over ``maxmemory`` (the script wrote nothing), after waiting for room."""
        with self._redis("submit"):
            pipe = self.store.r.pipeline(transaction=False)
            for valid, payload, task_id in items:
                assert valid.id is not None
                self.store.submit(valid.id, payload, task_id, force, pipe=pipe)
            replies = pipe.execute(raise_on_error=False)
            self._replicated()
        out: list[SubmitResult | None] = []
        refused = None
        for (valid, _, task_id), reply in zip(items, replies, strict=True):
            if isinstance(reply, Exception):
                if not is_out_of_memory(reply):
                    raise QueueUnavailable(f"cannot submit: {self.where} refused it "
                                           f"({reply})")
                refused = reply
                out.append(None)
                continue
            created, status = reply
            out.append(SubmitResult(
                id=valid.id, outcome="queued" if int(created) else "duplicate",
                status=str(status), task_id=task_id if int(created) else None))
        if refused is not None:
            with self._redis("read the queue's size"):
                pressure = self.window.pressure(1)
            self._wait(pressure or Pressure("redis_memory", f"Redis refused a submit: "
                                            f"{refused}", 0, 0, 0), deadline, on_wait)
        return out

    # -- reading -----------------------------------------------------------------------

    def status(self, article_id: str) -> ArticleStatus | None:
        """The article's status record, or None if the id is unknown (or expired)."""
        with self._redis("read the status"):
            return self.store.status(article_id)

    def statuses(self, article_ids: Sequence[str]) -> dict[str, ArticleStatus | None]:
        with self._redis("read statuses"):
            return self.store.statuses(list(article_ids))

    def recent(self, limit: int = 20) -> list[ArticleStatus]:
        """The most recently changed articles (queued, running, done or failed), newest first."""
        with self._redis("read recent articles"):
            return self.store.recent(limit)

    def result(self, article_id: str) -> Document | None:
        """The finished Document (done, or failed by a required stage), else None."""
        raw = self.result_json(article_id)
        return Document.model_validate_json(raw) if raw else None

    def result_json(self, article_id: str) -> str | None:
        """The Document JSON exactly as stored (no re-serialization). An id Redis no
        longer holds (its window, ``sinks.keep_in_redis``, passed) is read back from the
        archive: the configured sinks that can read (``postgres``)."""
        with self._redis("read the result"):
            raw = self.store.document_json(article_id)
            if raw is not None or self.store.r.exists(self.store.keys.article(article_id)):
                return raw
        return self.archived_json([article_id]).get(article_id)

    def archived_json(self, article_ids: Sequence[str]) -> dict[str, str]:
        """Document JSON by id from the archive (nothing when no sink is configured)."""
        if not self.settings.sinks.tables():
            return {}
        from copydesk.plugin_manager import build_plugin_manager
        from copydesk.sinks import read_archived

        if self._plugins is None:
            self._plugins = build_plugin_manager(self.settings)
        return read_archived(list(article_ids), self.settings, self._plugins)

    @overload
    def wait(self, ids: str, timeout: float | None = None) -> ArticleStatus | None: ...

    @overload
    def wait(self, ids: list[str] | tuple[str, ...] | set[str],
             timeout: float | None = None) -> dict[str, ArticleStatus | None]: ...

    def wait(self, ids: str | Iterable[str], timeout: float | None = None
             ) -> ArticleStatus | dict[str, ArticleStatus | None] | None:
        """Block until the article(s) are done or failed, or ``timeout`` seconds pass.

        Returns the status of one id, or a dict of statuses for several; when the timeout
        elapses first, unfinished ones are returned as they are (``queued``/``running``, or
        None if unknown). Blocks on the event stream, re-reading the records now and then.
        """
        single = isinstance(ids, str)
        wanted = [ids] if isinstance(ids, str) else list(dict.fromkeys(ids))
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._redis("wait for results"):
            cursor = self.store.last_event_id()
            current = self.store.statuses(wanted)
            pending = {i for i, s in current.items() if not (s and s.finished)}
            last_check = time.monotonic()
            while pending:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    break
                block = 2.0 if remaining is None else min(2.0, remaining)
                events = self.store.read_events(cursor, block_ms=max(1, int(block * 1000)))
                for event_id, fields in events:
                    cursor = event_id
                    if fields.get("status") in FINISHED:
                        pending.discard(fields.get("id", ""))
                if time.monotonic() - last_check > 5.0 and pending:
                    # the stream is capped: re-read records so a trimmed event is not missed
                    last_check = time.monotonic()
                    again = self.store.statuses(sorted(pending))
                    pending = {i for i, s in again.items() if not (s and s.finished)}
            final = self.store.statuses(wanted)
        return final[wanted[0]] if single else final

    def events(self, since: str = "$", idle_timeout: float | None = None
               ) -> Iterator[dict[str, str]]:
        """Status-change events from the stream (``id``, ``status``, ``at``, …), as they
        come; ``since`` is a stream id (``$`` = only new ones, ``0`` = all kept). Stops
        after ``idle_timeout`` seconds without an event (None = never)."""
        with self._redis("read events"):
            cursor = self.store.last_event_id() if since == "$" else since
        idle_since = time.monotonic()
        while True:
            if idle_timeout is not None and time.monotonic() - idle_since >= idle_timeout:
                return
            block = 2.0 if idle_timeout is None else max(0.001, min(
                2.0, idle_timeout - (time.monotonic() - idle_since)))
            with self._redis("read events"):
                got = self.store.read_events(cursor, block_ms=max(1, int(block * 1000)))
            for event_id, fields in got:
                cursor = event_id
                idle_since = time.monotonic()
                yield {"event_id": event_id, **fields}

    def follow(self, since: str = "$", idle_timeout: float | None = None,
               include_failed: bool = True) -> Iterator[Document]:
        """Yield each Document as it finishes (done, and failed ones that have a document)."""
        for event in self.events(since, idle_timeout):
            status = event.get("status")
            if status == "done" or (include_failed and status == "failed"):
                doc = self.result(event["id"])
                if doc is not None:
                    yield doc

    # -- the queue ---------------------------------------------------------------------

    def room(self) -> dict[str, Any]:
        """The back-pressure picture (``copydesk queue``, ``/metrics``): articles waiting
        and the limit, Redis memory and its limit, archived records held, paused workers."""
        with self._redis("read the queue's room"):
            memory = self.window.memory()
            pressure = self.window.pressure(1)
            return {
                "waiting": self.window.waiting(),
                "max_waiting": self.settings.queue.max_waiting,
                "used_memory": memory.used, "maxmemory": memory.limit,
                "memory_high": self.settings.queue.memory_high,
                "archived_in_redis": int(self.store.r.zcard(self.store.keys.archived)),
                "full": pressure.reason if pressure else None,
                "paused_workers": self.window.paused(),
            }

    def queue_info(self, dead_limit: int = 20) -> QueueInfo:
        """Queue depth, counts per status, unacknowledged messages, workers, dead letters."""
        with self._redis("read the queue"):
            return self.store.queue_info(dead_limit)

    def sink_backlogs(self, dead_limit: int = 5) -> dict[str, dict[str, Any]]:
        """Per sink (configured, or with a consumer group on the outbox): how many finished
        Documents wait for it (``backlog`` = ``lag``, never delivered, + ``pending``,
        delivered and not acknowledged), its consumers and its dead letters."""
        from copydesk.sinks import configured_names
        from copydesk.workers.queue.outbox import backlogs, sink_dead_letters

        with self._redis("read the outbox"):
            return {b.sink: {"backlog": b.total, "lag": b.lag, "pending": b.pending,
                             "consumers": b.consumers, "dead": b.dead,
                             "dead_letters": sink_dead_letters(self.store.r, self.store.keys,
                                                               b.sink, dead_limit)}
                    for b in backlogs(self.store.r, self.store.keys,
                                      configured_names(self.settings))}

    # -- reprocessing (workers.queue.reprocess) ---------------------------------------------

    def plan_stored(self, status: str = "done", limit: int | None = None
                    ) -> tuple[PipelineSpec, list[str], list[StoredPlan]]:
        """Plan stored Documents of ``status`` against the live workers' pipeline: that
        pipeline, warnings (workers running other pipelines) and one plan per Document.
        Raises ``NoWorkerPipeline`` when no live worker published its pipeline."""
        from copydesk.workers.queue.reprocess import plan_stored, workers_spec

        with self._redis("plan stored documents"):
            spec, warnings = workers_spec(self.store, self._alive_nodes())
            return spec, warnings, list(plan_stored(self.store, spec, status, limit))

    def enqueue_reprocess(self, plans: Sequence[StoredPlan]) -> int:
        """Enqueue a ``copydesk.reprocess`` message per plan that changes its Document."""
        from copydesk.workers.queue.reprocess import enqueue

        with self._redis("enqueue reprocessing"):
            return enqueue(self.store, plans)

    def coverage(self) -> dict[str, dict[str, int]] | None:
        """Per stage of the workers' pipeline, how many stored Documents are current,
        stale, missing and failed; None when no live worker published its pipeline."""
        from copydesk.workers.queue.reprocess import stored_coverage

        with self._redis("read coverage"):
            return stored_coverage(self.store)

    def stories(self, limit: int = 20) -> list[StoryEntry]:
        """The stories with the latest articles, newest first (the workers' story index)."""
        with self._redis("read stories"):
            return StoryIndex(self.store.shared_state()).recent(limit)

    def story(self, story_id: str) -> StoryEntry | None:
        """One story with its articles (a merged story's old id finds it), or None."""
        with self._redis("read a story"):
            return StoryIndex(self.store.shared_state()).get(story_id)

    def _alive_nodes(self) -> list[str]:
        return [w.node for w in self.store.queue_info(0).workers if w.alive]

    def dead_letters(self) -> list[dict[str, Any]]:
        """Every dead-lettered article: ``id``, ``reason``, ``attempts``, ``at``, ``article``."""
        with self._redis("read the dead-letter list"):
            return [{k: v for k, v in d.items() if k != "_raw"}
                    for d in self.store.dead_letters()]

    def resubmit_dead(self, ids: Sequence[str] | None = None) -> list[SubmitResult]:
        """Submit dead-lettered articles again (all, or those with the given ids) and take
        them off the dead-letter list."""
        wanted = set(ids) if ids is not None else None
        results = []
        with self._redis("re-submit dead letters"):
            entries = self.store.dead_letters()
        for entry in entries:
            if wanted is not None and entry.get("id") not in wanted:
                continue
            result = self.submit(entry["article"], force=True)
            with self._redis("re-submit dead letters"):
                self.store.remove_dead_letter(entry["_raw"])
            results.append(result)
        return results


_Pending = SubmitResult | tuple[Article, dict[str, Any], str]

#: Redis bytes an article may take while it waits (its message and its record each hold
#: it, plus keys and indexes), per character of its JSON: an upper bound, so a submit
#: stops short of ``queue.memory_high`` instead of running into ``maxmemory``.
_BYTES_PER_CHAR = 3


def _cost(pending: _Pending) -> int:
    if isinstance(pending, SubmitResult):
        return 0
    article, _, _ = pending
    return _BYTES_PER_CHAR * (len(article.text or article.html or "") + 1024)


def _fitting(sizes: Sequence[int], room: int | None) -> int:
    """How many of ``sizes``, in order, fit in ``room`` bytes (all when ``room`` is None)."""
    if room is None:
        return len(sizes)
    total = 0
    for count, size in enumerate(sizes):
        total += size
        if total > room:
            return count
    return len(sizes)


class _Deadline:
    """How long a submit may still wait for room: ``seconds`` from the last time it had
    room (a long backfill may wait many times; no single wait may pass ``seconds``)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = time.monotonic()

    def restart(self) -> None:
        self.started = time.monotonic()

    @property
    def waited(self) -> float:
        return time.monotonic() - self.started

    @property
    def left(self) -> float:
        return self.seconds - self.waited

    @property
    def over(self) -> bool:
        return self.left <= 0


def _given_id(item: Any) -> str | None:
    if isinstance(item, Article):
        return item.id
    if isinstance(item, dict):
        value = item.get("id")
        return printable(value) if isinstance(value, str) else None
    if isinstance(item, str):
        try:
            data = loads(item)
        except UnsafeJSON:
            return None
        return _given_id(data)
    return None
