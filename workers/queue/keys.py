"""The Redis key schema of copydesk: every key the queue and the result store use, in one place.

docs/queue.md documents the same table for systems in other languages; change both together.
``P`` below is ``settings.worker.key_prefix`` (default ``copydesk``) and ``Q`` the queue name
(``settings.worker.queue``, default ``copydesk``).

| key | type | what |
|---|---|---|
| ``Q`` | list | the Celery queue: producers LPUSH messages, workers BRPOP them |
| ``P:article:{id}`` | hash | one article's status record (fields in ``RecordField``), with TTL |
| ``P:events`` | stream | one entry per status change: ``id``, ``status``, ``at``, … (capped) |
| ``P:index:{status}`` | sorted set | ids per status; score = time (lease expiry for running) |
| ``P:dead`` | list | dead-lettered articles, JSON objects with ``id``, ``reason``, ``article`` |
| ``P:workers`` | sorted set | worker node names, score = last heartbeat (epoch seconds) |
| ``P:worker:{node}`` | hash | one worker's heartbeat: pid, host, concurrency, active, processed,
  queue, plugins (JSON: name -> version) |
| ``P:unacked`` / ``P:unacked_index`` / ``P:unacked_mutex`` | hash / zset / string | kombu's
  messages delivered but not acknowledged, their lease times, and the restore mutex |
| ``P:metrics:stage_seconds`` | hash | per-stage duration histograms (``workers.queue.metrics``) |
| ``P:pipelines`` | hash | per worker node, its pipeline as ``PipelineSpec`` JSON |
| ``P:partial:{id}`` | hash | a partial Document saved between stages (``workers.queue.partial``) |
| ``P:route_queues`` | set | the queues routed stages run on (``pipeline.routes``) |
| ``P:replication_fence`` | string | a counter submitters bump before ``WAIT`` (Sentinel setups) |
| ``P:rejected`` | list | malformed messages rejected at intake, newest first, raw kept (capped) |
| ``P:metrics:rejected`` | hash | how many messages were rejected, per reason code |
| ``P:archived`` | sorted set | ids whose Documents every sink has committed; score = when |
| ``P:paused`` | hash | worker node -> JSON ``{since, reason}`` while Redis refuses its writes |
| ``P:state:{S}:*`` | various | the shared state of cross-article stages, space ``S``
  (``workers.queue.redis_state`` names its keys) |
| ``P:outbox`` | stream | finished Documents for the sinks: ``id``, ``status``, ``at``; one
  consumer group per sink, named after it; trimmed once every group acknowledged
  (``workers.queue.outbox``) |
| ``P:sink_dead:{sink}`` | list | Documents that sink refused: JSON ``id``, ``sink``,
  ``reason``, ``at``, newest first |
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

STATUSES = ("queued", "running", "done", "failed")
FINISHED = ("done", "failed")


class RecordField(StrEnum):
    """Fields of the ``P:article:{id}`` hash (all values are strings)."""

    status = "status"  # queued | running | done | failed
    task_id = "task_id"  # Celery task id of the submission being processed
    attempts = "attempts"  # how many times a worker started on it
    submitted_at = "submitted_at"  # epoch seconds, as a decimal string
    started_at = "started_at"
    finished_at = "finished_at"
    updated_at = "updated_at"
    stage = "stage"  # the stage running now (while running), the last one otherwise
    worker = "worker"  # node name of the worker that holds / finished it
    owner = "owner"  # node:pid of the process holding the lease
    lease_until = "lease_until"  # epoch seconds; a running record whose lease lapsed is orphaned
    error = "error"  # why it failed, or why the last attempt was lost
    traceback = "traceback"  # tracebacks (file, line) of the stages that raised, last finish
    document = "document"  # Document JSON (when done, or failed by a required stage)
    article = "article"  # the submitted-article JSON, kept until it is finished
    completions = "completions"  # how many times it reached done/failed (1 in a healthy system)
    queue = "queue"  # with pipeline.routes: the queue of the segment it is in (or waits for)
    segment = "segment"  # with pipeline.routes: that segment, e.g. "2/2 heavy: summary"
    revision = "revision"  # how many times the stored Document was reprocessed (absent: 0)
    reprocessed_at = "reprocessed_at"  # epoch seconds of the last reprocess


@dataclass(frozen=True)
class Keys:
    """Key names for one prefix and queue."""

    prefix: str = "copydesk"
    queue: str = "copydesk"

    def article(self, article_id: str) -> str:
        return f"{self.prefix}:article:{article_id}"

    @property
    def events(self) -> str:
        return f"{self.prefix}:events"

    def index(self, status: str) -> str:
        return f"{self.prefix}:index:{status}"

    @property
    def pipelines(self) -> str:
        """Per worker node, the ``PipelineSpec`` JSON of the pipeline it runs."""
        return f"{self.prefix}:pipelines"

    def partial(self, article_id: str) -> str:
        """The partial Document of an article being run (``workers.queue.partial``)."""
        return f"{self.prefix}:partial:{article_id}"

    @property
    def dead(self) -> str:
        return f"{self.prefix}:dead"

    @property
    def workers(self) -> str:
        return f"{self.prefix}:workers"

    def worker(self, node: str) -> str:
        return f"{self.prefix}:worker:{node}"

    @property
    def unacked(self) -> str:
        return f"{self.prefix}:unacked"

    @property
    def unacked_index(self) -> str:
        return f"{self.prefix}:unacked_index"

    @property
    def unacked_mutex(self) -> str:
        return f"{self.prefix}:unacked_mutex"

    @property
    def stage_metrics(self) -> str:
        """The hash of per-stage duration histograms that workers add to
        (``workers.queue.metrics``)."""
        return f"{self.prefix}:metrics:stage_seconds"

    @property
    def route_queues(self) -> str:
        """The queues of routed segments (``pipeline.routes``), as workers announce them."""
        return f"{self.prefix}:route_queues"

    @property
    def replication_fence(self) -> str:
        """A counter written after a submit so ``WAIT`` on any connection covers the submit."""
        return f"{self.prefix}:replication_fence"

    @property
    def rejected(self) -> str:
        """Malformed messages rejected at intake (``workers.worker.intake``), newest first."""
        return f"{self.prefix}:rejected"

    @property
    def archived(self) -> str:
        """Ids whose Documents every configured sink has committed, by archive time
        (``workers.queue.window``): the first records to go when Redis is full."""
        return f"{self.prefix}:archived"

    @property
    def paused(self) -> str:
        """Workers paused because Redis refused a write for memory, with since and why."""
        return f"{self.prefix}:paused"

    @property
    def rejected_metrics(self) -> str:
        """Counts of rejected messages per reason code."""
        return f"{self.prefix}:metrics:rejected"

    @property
    def outbox(self) -> str:
        """Finished Documents on their way to the sinks (``workers.queue.outbox``)."""
        return f"{self.prefix}:outbox"

    def sink_dead(self, sink: str) -> str:
        """The Documents ``sink`` refused, with the reason."""
        return f"{self.prefix}:sink_dead:{sink}"

    @property
    def binding(self) -> str:
        """kombu's exchange-binding set for the queue (created by workers, not needed to
        publish on the default exchange)."""
        return f"_kombu.binding.{self.queue}"


def keys_for(settings: object) -> Keys:
    """The key names for ``core.Settings`` (reads ``settings.worker``)."""
    worker = settings.worker  # type: ignore[attr-defined]
    return Keys(prefix=worker.key_prefix, queue=worker.queue)
