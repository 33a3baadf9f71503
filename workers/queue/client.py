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
from collections.abc import Iterable, Iterator, Sequence
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
from copydesk.workers.queue.store import ArticleStatus, QueueInfo, Store

if TYPE_CHECKING:
    from copydesk.provenance import PipelineSpec
    from copydesk.workers.queue.reprocess import StoredPlan
from pydantic_core import PydanticSerializationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

__all__ = [
    "ArticleStatus",
    "Client",
    "InvalidArticle",
    "QueueUnavailable",
    "SubmitResult",
]


class QueueUnavailable(RuntimeError):
    """Redis cannot be reached (or refused the command); the message names the server."""


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

    def submit(self, article: Article | dict[str, Any] | str, force: bool = False) -> SubmitResult:
        """Validate and enqueue one article (an ``Article``, a dict or a JSON string).

        Raises ``InvalidArticle`` for bad input and ``QueueUnavailable`` when Redis is down.
        An id that is already queued, running or done is not enqueued again (``duplicate``)
        unless ``force`` (which re-processes a done article).
        """
        valid, payload = self._prepare(article)
        assert valid.id is not None
        task_id = new_task_id()
        with self._redis("submit"):
            result = self.store.submit(valid.id, payload, task_id, force)
            self._replicated()
        assert result is not None
        created, status = result
        return SubmitResult(id=valid.id, outcome="queued" if created else "duplicate",
                            status=status, task_id=task_id if created else None)

    def submit_many(self, articles: Iterable[Article | dict[str, Any] | str],
                    force: bool = False, chunk_size: int = 500) -> list[SubmitResult]:
        """Validate and enqueue many articles, pipelined in chunks; one result per input,
        in order. Invalid articles come back with outcome ``invalid`` and are not enqueued."""
        results: list[SubmitResult] = []
        batch: list[tuple[int, Article, dict[str, Any], str]] = []

        def flush() -> None:
            if not batch:
                return
            with self._redis("submit"):
                pipe = self.store.r.pipeline(transaction=False)
                for _, valid, payload, task_id in batch:
                    assert valid.id is not None
                    self.store.submit(valid.id, payload, task_id, force, pipe=pipe)
                replies = pipe.execute()
                self._replicated()
            for (index, valid, _, task_id), (created, status) in zip(batch, replies,
                                                                     strict=True):
                results[index] = SubmitResult(
                    id=valid.id, outcome="queued" if int(created) else "duplicate",
                    status=str(status), task_id=task_id if int(created) else None)
            batch.clear()

        for item in articles:
            try:
                valid, payload = self._prepare(item)
            except InvalidArticle as exc:
                results.append(SubmitResult(id=_given_id(item), outcome="invalid",
                                            error=str(exc)))
                continue
            results.append(SubmitResult(id=valid.id, outcome="pending"))
            batch.append((len(results) - 1, valid, payload, new_task_id()))
            if len(batch) >= chunk_size:
                flush()
        flush()
        return results

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
        """The Document JSON exactly as stored (no re-serialization)."""
        with self._redis("read the result"):
            return self.store.document_json(article_id)

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

    def queue_info(self, dead_limit: int = 20) -> QueueInfo:
        """Queue depth, counts per status, unacknowledged messages, workers, dead letters."""
        with self._redis("read the queue"):
            return self.store.queue_info(dead_limit)

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
        from copydesk.workers.queue.reprocess import NoWorkerPipeline, coverage, workers_spec

        with self._redis("read coverage"):
            try:
                spec, _ = workers_spec(self.store, self._alive_nodes())
            except NoWorkerPipeline:
                return None
            return coverage(self.store, spec)

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
