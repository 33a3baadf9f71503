"""The Redis result store: one status record per article, its Document JSON, and an event stream.

Every status change is one Lua script, so the record, the per-status indexes and the event
appended to the stream change together or not at all, whichever process (client, worker,
another host) makes it. The key schema lives in ``workers.queue.keys``; docs/queue.md explains it.

Leases: a worker that starts an article writes ``lease_until`` (Redis server time + the
visibility timeout) and its heartbeat renews it. A record that is ``running`` with a lapsed
lease belongs to a dead process: the next delivery of its message takes it over, counting an
attempt; after ``max_retries + 1`` attempts the article is failed and parked in the
dead-letter list instead of being run again.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterable, Sequence
from typing import Any

import redis
from copydesk.document import Document
from copydesk.settings import Settings, WorkerSettings
from copydesk.state import SharedState
from copydesk.workers.queue.compact import pack, unpack
from copydesk.workers.queue.connection import eval_in_pipeline
from copydesk.workers.queue.keys import FINISHED, STATUSES, Keys, RecordField, keys_for
from copydesk.workers.queue.partial import SAVE_PARTIAL, PartialDocument
from copydesk.workers.queue.protocol import build_message
from copydesk.workers.queue.records import ArticleStatus, ClaimResult, QueueInfo, WorkerInfo
from copydesk.workers.queue.scripts import (
    CLAIM,
    FINISH,
    HANDOFF,
    REJECT,
    RELEASE,
    RENEW,
    REPLACE,
    REQUEUE_LOST,
    REQUEUE_ORPHAN,
    SUBMIT,
)
from redis.client import NEVER_DECODE
from redis.retry import Retry

#: What ``Store.finish`` takes: article id, task id, status, Document JSON, error, worker
#: and traceback.
Finish = tuple[str, str, str, str | None, str | None, str, str | None]


class Store:
    """Reads and writes article records, events and dead letters in Redis."""

    def __init__(self, client: redis.Redis, keys: Keys, worker: WorkerSettings) -> None:
        #: typed loosely: redis-py's stubs do not know the client decodes responses
        self.r: Any = client
        self.keys = keys
        self.cfg = worker
        self._submit = client.register_script(SUBMIT)
        self._claim = client.register_script(CLAIM)
        self._finish = client.register_script(FINISH)
        self._release = client.register_script(RELEASE)
        self._renew = client.register_script(RENEW)
        self._requeue = client.register_script(REQUEUE_ORPHAN)
        self._requeue_lost = client.register_script(REQUEUE_LOST)
        self._save_partial = client.register_script(SAVE_PARTIAL)
        self._hand_off = client.register_script(HANDOFF)
        self._reject = client.register_script(REJECT)
        self._replace = client.register_script(REPLACE)
        #: append finished Documents to the outbox (a sink is configured: ``from_settings``)
        self.outbox = False

    @classmethod
    def from_settings(cls, settings: Settings, retries: int = 3,
                      retry: Retry | None = None) -> Store:
        from copydesk.workers.queue.connection import sync_client

        store = cls(sync_client(settings, retries=retries, retry=retry), keys_for(settings),
                    settings.worker)
        store.outbox = bool(settings.sinks.tables())
        return store

    def prepare_outbox(self, sinks: Iterable[str]) -> None:
        """Create each sink's consumer group on the outbox (from its start), so entries are
        kept for a sink whose consumer has not run yet."""
        from copydesk.workers.queue.outbox import ensure_group

        for sink in sinks:
            ensure_group(self.r, self.keys, sink)

    @property
    def max_attempts(self) -> int:
        return self.cfg.max_retries + 1

    @property
    def lease_seconds(self) -> float:
        """An article's lease: one heartbeat shorter than the visibility timeout, so it has
        lapsed by the time the transport re-queues the message of a dead worker."""
        return self.cfg.visibility_timeout - self.cfg.heartbeat_interval

    def _index_keys(self) -> list[str]:
        return [self.keys.index(s) for s in STATUSES]

    # -- submission --------------------------------------------------------------------

    def submit_args(self, article_id: str, article_json: dict[str, Any], task_id: str,
                    force: bool) -> tuple[list[str], list[Any]]:
        message = build_message(article_json, self.keys.queue, task_id)
        keys = [self.keys.article(article_id), self.keys.events, *self._index_keys(),
                self.keys.queue]
        args: list[Any] = [article_id, task_id, message,
                           self._pack(json.dumps(article_json, ensure_ascii=False)),
                self.cfg.result_ttl, "1" if force else "0", self.cfg.stream_maxlen]
        return keys, args

    def submit(self, article_id: str, article_json: dict[str, Any], task_id: str,
               force: bool = False, pipe: Any = None) -> tuple[bool, str] | None:
        keys, args = self.submit_args(article_id, article_json, task_id, force)
        out = self._submit(keys=keys, args=args, client=pipe or self.r)
        if pipe is not None:
            return None
        return bool(int(out[0])), str(out[1])

    def replicated(self, replicas: int, timeout_ms: int) -> int:
        """Wait until ``replicas`` replicas have everything written to the master so far;
        returns how many acknowledged within ``timeout_ms``.

        ``WAIT`` only covers the writes of the connection it runs on, so a fence key is
        bumped on that same connection first: replication is ordered, so a replica holding
        the fence holds every earlier write, whichever connection made it.
        """
        pipe = self.r.pipeline(transaction=False)
        pipe.incr(self.keys.replication_fence)
        pipe.execute_command("WAIT", replicas, timeout_ms)
        _, acked = pipe.execute()
        return int(acked)

    # -- worker side -------------------------------------------------------------------

    def claim(self, article_id: str, task_id: str, worker: str, owner: str,
              article_json: dict[str, Any]) -> ClaimResult:
        action, detail = self._claim(*self._claim_call(article_id, task_id, worker, owner,
                                                       article_json))
        return ClaimResult(str(action), str(detail))

    def claim_many(self, claims: Sequence[tuple[str, str, str, str, dict[str, Any]]],
                   ) -> list[ClaimResult | Exception]:
        """``claim`` each ``(article id, task id, worker, owner, article)`` in one round
        trip (a batch's); per claim its result, or the error Redis answered it with."""
        answers = self._each(self._claim, [self._claim_call(*claim) for claim in claims])
        return [answer if isinstance(answer, Exception)
                else ClaimResult(str(answer[0]), str(answer[1])) for answer in answers]

    def _each(self, script: Any, calls: list[tuple[list[str], list[Any]]]) -> list[Any]:
        """Run ``script`` once per ``(keys, args)``: one alone, more in one pipeline
        (``connection.eval_in_pipeline``). Per call its answer, or the error Redis answered
        it with; a lost connection raises."""
        if len(calls) == 1:
            try:
                return [script(*calls[0])]
            except redis.ResponseError as exc:
                return [exc]
        pipe = self.r.pipeline(transaction=False)
        for keys, args in calls:
            eval_in_pipeline(pipe, script, keys, args)
        return list(pipe.execute(raise_on_error=False))

    def _claim_call(self, article_id: str, task_id: str, worker: str, owner: str,
                    article_json: dict[str, Any]) -> tuple[list[str], list[Any]]:
        keys = [self.keys.article(article_id), self.keys.events, *self._index_keys(),
                self.keys.dead]
        plain = json.dumps(article_json, ensure_ascii=False)
        args: list[Any] = [article_id, task_id, worker, owner, self.lease_seconds,
                self.max_attempts, plain, self.cfg.result_ttl, self.cfg.stream_maxlen,
                self._pack(plain)]
        return keys, args

    def set_segment(self, article_id: str, label: str, queue: str) -> None:
        """Publish the routed segment an article is in (``copydesk status`` shows it)."""
        self.r.hset(self.keys.article(article_id),
                    mapping={RecordField.segment.value: label, RecordField.queue.value: queue})

    def set_stage(self, article_ids: Iterable[str], stage: str) -> None:
        pipe = self.r.pipeline(transaction=False)
        now = str(time.time())
        for article_id in article_ids:
            pipe.hset(self.keys.article(article_id),
                      mapping={RecordField.stage.value: stage, RecordField.updated_at.value: now})
        pipe.execute()

    def finish(self, article_id: str, task_id: str, status: str, document_json: str | None,
               error: str | None, worker: str, traceback: str | None = None) -> bool:
        """Record the outcome; ``traceback`` (of stages that raised) replaces any earlier one.
        The partial Document goes too. False: the record was finished already."""
        return bool(self._finish(*self._finish_call(article_id, task_id, status, document_json,
                                                    error, worker, traceback)))

    def finish_many(self, finishes: Sequence[Finish]) -> list[bool | Exception]:
        """``finish`` each of ``finishes`` in one round trip (a batch's); per finish whether
        it was written, or the error Redis answered it with."""
        answers = self._each(self._finish, [self._finish_call(*f) for f in finishes])
        return [answer if isinstance(answer, Exception) else bool(answer)
                for answer in answers]

    def _finish_call(self, article_id: str, task_id: str, status: str,
                     document_json: str | None, error: str | None, worker: str,
                     traceback: str | None = None) -> tuple[list[str], list[Any]]:
        keys = [self.keys.article(article_id), self.keys.events, *self._index_keys(),
                self.keys.outbox, self.keys.partial(article_id)]
        document = self._pack(document_json) if document_json else ""
        args: list[Any] = [article_id, task_id, status, document, error or "",
                self.cfg.result_ttl, self.cfg.stream_maxlen, worker, traceback or "",
                "1" if self.outbox else ""]
        return keys, args

    # -- reprocessing (workers.queue.reprocess) ----------------------------------------------

    def publish_pipeline(self, node: str, spec_json: str) -> None:
        """Record the pipeline worker ``node`` runs (``PipelineSpec`` JSON)."""
        self.r.hset(self.keys.pipelines, node, spec_json)

    def pipelines(self) -> dict[str, str]:
        """Per worker node that published one, its ``PipelineSpec`` JSON."""
        return dict(self.r.hgetall(self.keys.pipelines))

    def stored_ids(self, status: str, limit: int | None = None) -> list[str]:
        """Ids of stored records with ``status`` (done/failed), newest first."""
        return list(self.r.zrevrange(self.keys.index(status), 0,
                                     -1 if limit is None else limit - 1))

    def stored_documents(self, article_ids: Sequence[str]
                         ) -> list[tuple[str, str | None, int, str | None, str | None]]:
        """``(id, status, revision, task_id, Document JSON)`` of each record, one round trip."""
        pipe = self.r.pipeline(transaction=False)
        for article_id in article_ids:
            pipe.hmget(self.keys.article(article_id), ["status", "revision", "task_id"])
            pipe.execute_command("HGET", self.keys.article(article_id),
                                 RecordField.document.value, **{NEVER_DECODE: True})
        raw = pipe.execute()
        out = []
        for i, article_id in enumerate(article_ids):
            (status, revision, task_id), document = raw[2 * i], raw[2 * i + 1]
            out.append((article_id, status, int(revision or 0), task_id, unpack(document)))
        return out

    def replace_document(self, article_id: str, task_id: str, revision: int,
                         document_json: str, status: str, worker: str,
                         stages: Sequence[str]) -> bool:
        """Atomically store a reprocessed Document, if the record is still the finished
        submission ``task_id`` at ``revision`` (a newer submit or reprocess wins)."""
        keys = [self.keys.article(article_id), self.keys.events, self.keys.index("done"),
                self.keys.index("failed"), self.keys.outbox]
        args: list[Any] = [article_id, task_id, revision, self._pack(document_json), status,
                           worker, ",".join(stages), self.cfg.result_ttl,
                           self.cfg.stream_maxlen, "1" if self.outbox else ""]
        return bool(self._replace(keys=keys, args=args))

    # -- partial Documents (workers.queue.partial) ---------------------------------------------

    def save_partial(self, article_id: str, task_id: str, attempt: int,
                     document: Document | str, stage: str = "") -> bool:
        """Save the Document between stages, while submission ``task_id`` holds the article
        (False, nothing written, when it does not: it finished, or a newer one took over)."""
        raw = document if isinstance(document, str) else document.to_json()
        keys = [self.keys.article(article_id), self.keys.partial(article_id)]
        return bool(self._save_partial(keys=keys, args=[task_id, attempt, raw,
                                                        self.cfg.result_ttl, stage]))

    def load_partial(self, article_id: str, task_id: str | None = None
                     ) -> PartialDocument | None:
        """The saved partial Document, if any (of submission ``task_id`` only, when given)."""
        raw = self.r.hgetall(self.keys.partial(article_id))
        if not raw or "document" not in raw:
            return None
        if task_id is not None and raw.get("task_id") != task_id:
            return None
        return PartialDocument(article_id=article_id, task_id=raw.get("task_id", ""),
                               attempt=int(raw.get("attempt") or 0),
                               stage=raw.get("stage", ""),
                               saved_at=float(raw.get("saved_at") or 0),
                               document_json=raw["document"],
                               parse=base64.b64decode(raw["parse"]) if raw.get("parse")
                               else None)

    def announce_route_queues(self, queues: Iterable[str]) -> None:
        """Record the queues routed segments use (sweeps look for lost messages there)."""
        names = [q for q in queues if q != self.keys.queue]
        if names:
            self.r.sadd(self.keys.route_queues, *names)

    def hand_off(self, article_id: str, task_id: str, document: Document, last_stage: str,
                 article_json: dict[str, Any], queue: str, segment: str,
                 parse: bytes | None = None) -> bool:
        """Pass an article on to its next routed segment: its partial Document (and the
        spaCy parse, when the next segment reads it) saved, its record ``queued`` on
        ``queue`` and that queue's message pushed, in one script (False, nothing done, when
        this submission no longer holds the article)."""
        message = build_message(article_json, queue, task_id)
        keys = [self.keys.article(article_id), self.keys.events, self.keys.index("queued"),
                self.keys.index("running"), self.keys.partial(article_id), queue]
        args: list[Any] = [article_id, task_id, document.to_json(), self.cfg.result_ttl,
                           last_stage, message, queue, segment, self.cfg.stream_maxlen,
                           base64.b64encode(parse).decode("ascii") if parse else ""]
        return bool(self._hand_off(keys=keys, args=args))

    def release(self, article_id: str, task_id: str, reason: str) -> bool:
        """Give an article back after a lost attempt (its message is re-queued by the caller)."""
        keys = [self.keys.article(article_id), self.keys.events, self.keys.index("queued"),
                self.keys.index("running")]
        return bool(self._release(keys=keys, args=[article_id, task_id, reason,
                                                   self.cfg.stream_maxlen]))

    def renew(self, held: Sequence[tuple[str, str]]) -> int:
        """Extend the leases of ``(article id, task id)`` pairs this worker is running."""
        if not held:
            return 0
        keys = [self.keys.index("running"), *(self.keys.article(a) for a, _ in held)]
        args: list[Any] = [self.lease_seconds]
        for article_id, task_id in held:
            args += [article_id, task_id]
        return int(self._renew(keys=keys, args=args))

    def renew_messages(self, delivery_tags: Sequence[str]) -> None:
        """Stamp kombu's unacked index for messages this worker holds, so the transport's
        visibility timeout counts from the last heartbeat, not from delivery."""
        if not delivery_tags:
            return
        now = time.time()
        self.r.zadd(self.keys.unacked_index, dict.fromkeys(delivery_tags, now), xx=True)

    def requeue_orphans(self, grace: float, limit: int = 100) -> list[str]:
        """Re-queue articles whose lease lapsed more than ``grace`` seconds ago and whose
        message did not come back (acknowledged or lost): the safety net under kombu's
        own restore. Returns the ids re-queued."""
        now = self.server_time()
        stale = self.r.zrangebyscore(self.keys.index("running"), "-inf", now - grace,
                                     start=0, num=limit)
        requeued = []
        for article_id in stale:
            rec = self.r.hmget(self.keys.article(article_id),
                               ["status", "lease_until", "task_id", "queue"])
            status, lease, task_id, queue = rec
            queue = queue or self.keys.queue  # a routed segment's own queue
            article = self._read_packed(article_id, RecordField.article)
            if status != "running" or article is None or lease is None:
                if status is None:  # expired record: drop the dangling index entry
                    self.r.zrem(self.keys.index("running"), article_id)
                continue
            message = build_message(json.loads(article), queue, task_id)
            keys = [self.keys.article(article_id), self.keys.events, self.keys.index("queued"),
                    self.keys.index("running"), queue]
            reason = "the worker holding it stopped renewing its lease and its message was lost"
            if self._requeue(keys=keys, args=[article_id, lease, message, reason,
                                              self.cfg.stream_maxlen]):
                requeued.append(article_id)
        return requeued

    def requeue_lost(self, grace: float, max_scan: int = 1000, limit: int = 100) -> list[str]:
        """Re-queue articles ``queued`` for more than ``grace`` seconds whose message is
        neither in the queue nor held by a worker: lost between a worker's BRPOP and its
        bookkeeping of the delivery (a worker killed in that instant). Only looks when the
        queue is at most ``max_scan`` long (a longer queue is read again later)."""
        now = self.server_time()
        stale = self.r.zrangebyscore(self.keys.index("queued"), "-inf", now - grace,
                                     start=0, num=limit)
        if not stale or self.r.llen(self.keys.queue) > max_scan:
            return []
        queues = {q for q in self.r.smembers(self.keys.route_queues)} | {self.keys.queue}
        present = set()
        for raw in [*(m for q in sorted(queues) for m in self.r.lrange(q, 0, max_scan)),
                    *self.r.hvals(self.keys.unacked)]:
            try:
                payload = json.loads(raw)
                if isinstance(payload, list):  # kombu's unacked entries: [message, ex, rk]
                    payload = payload[0]
                present.add(payload["headers"]["id"])
            except (ValueError, KeyError, TypeError, IndexError):
                continue
        requeued = []
        for article_id in stale:
            status, task_id, updated, queue = self.r.hmget(
                self.keys.article(article_id), ["status", "task_id", "updated_at", "queue"])
            queue = queue or self.keys.queue
            article = self._read_packed(article_id, RecordField.article)
            if status is None:
                self.r.zrem(self.keys.index("queued"), article_id)
                continue
            if status != "queued" or task_id in present or article is None:
                continue
            message = build_message(json.loads(article), queue, task_id)
            keys = [self.keys.article(article_id), self.keys.index("queued"), queue]
            if self._requeue_lost(keys=keys, args=[article_id, task_id, updated, message]):
                requeued.append(article_id)
        return requeued

    def reject(self, entry: str, code: str, maxlen: int, article_id: str | None,
               task_id: str, error: str, worker: str) -> bool:
        """Keep a message rejected at intake (``workers.worker.intake``), count it under ``code``,
        and fail the article's record when ``article_id`` is known. True if recorded."""
        keys = [self.keys.rejected, self.keys.rejected_metrics]
        if article_id is not None:
            keys += [self.keys.article(article_id), self.keys.events, *self._index_keys()]
        args: list[Any] = [entry, code, maxlen, article_id or "", task_id, error,
                           self.cfg.result_ttl, self.cfg.stream_maxlen, worker]
        return bool(self._reject(keys=keys, args=args))

    def rejected(self, limit: int = 20) -> list[dict[str, Any]]:
        """The most recently rejected messages, newest first (``raw`` kept whole)."""
        return [json.loads(item) for item in self.r.lrange(self.keys.rejected, 0, limit - 1)]

    def rejected_counts(self) -> dict[str, int]:
        """Messages rejected at intake so far, per reason code."""
        return {k: int(v) for k, v in self.r.hgetall(self.keys.rejected_metrics).items()}

    def server_time(self) -> float:
        sec, usec = self.r.time()
        return float(sec) + usec / 1_000_000

    def heartbeat(self, node: str, info: dict[str, Any], ttl: float) -> None:
        now = time.time()
        pipe = self.r.pipeline(transaction=False)
        pipe.hset(self.keys.worker(node), mapping={k: str(v) for k, v in info.items()}
                  | {"last_seen": str(now)})
        pipe.expire(self.keys.worker(node), max(1, int(ttl)))
        pipe.zadd(self.keys.workers, {node: now})
        pipe.zremrangebyscore(self.keys.workers, "-inf", now - 24 * 3600)
        pipe.execute()

    def worker_gone(self, node: str) -> None:
        pipe = self.r.pipeline(transaction=False)
        pipe.delete(self.keys.worker(node))
        pipe.hdel(self.keys.pipelines, node)
        pipe.zrem(self.keys.workers, node)
        pipe.execute()

    # -- reading -----------------------------------------------------------------------

    def status(self, article_id: str) -> ArticleStatus | None:
        return self.statuses([article_id])[article_id]

    def statuses(self, article_ids: Sequence[str]) -> dict[str, ArticleStatus | None]:
        pipe = self.r.pipeline(transaction=False)
        fields = [f.value for f in RecordField if f not in (RecordField.document,
                                                            RecordField.article)]
        for article_id in article_ids:
            pipe.hmget(self.keys.article(article_id), fields)
            pipe.hexists(self.keys.article(article_id), RecordField.document.value)
        raw = pipe.execute()
        out: dict[str, ArticleStatus | None] = {}
        for i, article_id in enumerate(article_ids):
            values, has_doc = raw[2 * i], raw[2 * i + 1]
            rec = {f: v for f, v in zip(fields, values, strict=True) if v is not None}
            if not rec:
                out[article_id] = None
                continue
            if has_doc:
                rec[RecordField.document.value] = ""
            out[article_id] = ArticleStatus.from_record(article_id, rec)
        return out

    def recent(self, limit: int) -> list[ArticleStatus]:
        """The ``limit`` most recently changed articles of any status, newest first."""
        pipe = self.r.pipeline(transaction=False)
        for status in STATUSES:
            pipe.zrevrange(self.keys.index(status), 0, limit - 1, withscores=True)
        scored: list[tuple[float, str]] = []
        for rows in pipe.execute():
            scored.extend((float(score), str(member)) for member, score in rows)
        ids = [member for _, member in sorted(scored, reverse=True)[:limit]]
        found = self.statuses(ids) if ids else {}
        items = [s for s in found.values() if s is not None]
        return sorted(items, key=lambda s: s.updated_at or 0, reverse=True)

    def document_json(self, article_id: str) -> str | None:
        """The stored Document as JSON text (decompressed when it is stored compressed)."""
        return self._read_packed(article_id, RecordField.document)

    # -- compact values (``workers.queue.compact``) -------------------------------------------

    def _pack(self, text: str) -> bytes:
        return pack(text, self.cfg.compression)

    def _read_packed(self, article_id: str, name: RecordField) -> str | None:
        """A JSON field of a record, read as bytes (the client decodes other replies) and
        decompressed if it is a zstd frame."""
        value = self.r.execute_command("HGET", self.keys.article(article_id), name.value,
                                       **{NEVER_DECODE: True})
        return unpack(value)

    def last_event_id(self) -> str:
        last = self.r.xrevrange(self.keys.events, count=1)
        return str(last[0][0]) if last else "0-0"

    def read_events(self, after: str, block_ms: int | None,
                    count: int = 500) -> list[tuple[str, dict[str, str]]]:
        got = self.r.xread({self.keys.events: after}, count=count, block=block_ms)
        if not got:
            return []
        return [(str(eid), dict(fields)) for eid, fields in got[0][1]]

    def dead_letters(self, limit: int = -1) -> list[dict[str, Any]]:
        raw = self.r.lrange(self.keys.dead, 0, limit if limit < 0 else limit - 1)
        return [json.loads(item) | {"_raw": item} for item in raw]

    def remove_dead_letter(self, raw: str) -> int:
        return int(self.r.lrem(self.keys.dead, 1, raw))

    def shared_state(self) -> SharedState:
        """The state cross-article stages share (``P:state:*``), on this store's Redis."""
        from copydesk.workers.queue.redis_state import RedisState

        return SharedState(RedisState(self.r, self.keys.prefix))

    def queue_info(self, dead_limit: int = 20) -> QueueInfo:
        now = time.time()
        ttl = self.cfg.result_ttl
        pipe = self.r.pipeline(transaction=False)
        for status in FINISHED:
            pipe.zremrangebyscore(self.keys.index(status), "-inf", now - ttl)
        pipe.llen(self.keys.queue)
        pipe.hlen(self.keys.unacked)
        for status in STATUSES:
            pipe.zcard(self.keys.index(status))
        pipe.llen(self.keys.dead)
        pipe.lrange(self.keys.dead, -dead_limit, -1)
        pipe.zrange(self.keys.workers, 0, -1, withscores=True)
        pipe.hgetall(self.keys.rejected_metrics)
        out = pipe.execute()[len(FINISHED):]
        depth, unacked = int(out[0]), int(out[1])
        counts = {s: int(out[2 + i]) for i, s in enumerate(STATUSES)}
        dead_count, dead_raw, workers_raw = out[6], out[7], out[8]
        stale_after = 3 * self.cfg.heartbeat_interval
        workers = []
        for node, seen in workers_raw:
            info = self.r.hgetall(self.keys.worker(node))
            workers.append(WorkerInfo(node=node, last_seen=float(seen),
                                      alive=bool(info) and now - float(seen) < stale_after,
                                      info=info))
        return QueueInfo(
            queue=self.keys.queue, depth=depth, unacked=unacked, counts=counts,
            workers=workers, dead_letters=[json.loads(x) for x in dead_raw],
            dead_letter_count=int(dead_count),
            rejected={k: int(v) for k, v in out[9].items()},
            queues=self._per_queue(depth, workers),
        )

    def _per_queue(self, depth: int, workers: Sequence[WorkerInfo]) -> dict[str, dict[str, int]]:
        """Depth and live workers of the default queue and of every routed one."""
        routed = sorted(q for q in self.r.smembers(self.keys.route_queues) if q != self.keys.queue)
        depths = [depth, *(int(n) for n in self._depths(routed))]
        out: dict[str, dict[str, int]] = {}
        for name, waiting in zip([self.keys.queue, *routed], depths, strict=True):
            alive = sum(1 for w in workers if w.alive
                        and name in (w.info.get("queue") or "").split(","))
            out[name] = {"depth": waiting, "workers": alive}
        return out

    def _depths(self, queues: Sequence[str]) -> list[int]:
        if not queues:
            return []
        pipe = self.r.pipeline(transaction=False)
        for name in queues:
            pipe.llen(name)
        return [int(n) for n in pipe.execute()]
