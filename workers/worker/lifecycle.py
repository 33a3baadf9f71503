"""One article lifecycle, for a single task and a batch alike (a single task is a batch of one).

For each message (a ``Job``): **validate** the article with the settings' article rules
(an invalid one ends ``failed`` with the reason); **claim** it in the store (skipped when it
is done or held under a live lease elsewhere; dead-lettered when its attempts are used up).
Then the claimed articles **run**: whole, through the batched pipeline, or with
``pipeline.routes`` only the segments of this worker's queues, grouped by the stages each
has due; an article a lost attempt or an earlier segment left a partial Document of
**resumes** from it. Each article then **finishes** (``done`` or ``failed``, with one
failure summary) or is **handed off** to its next segment's queue. An article that hit the
soft time limit is **given back** (released with the reason, its message re-queued), as is
every unfinished article of a run that stopped; a run that crashes outside the stages is
retried one article at a time, and an article that crashes alone ends ``failed``.

The outcome of each message (``acks.Outcome``) says whether it is acknowledged with a result
or re-queued; ``workers.worker.acks`` turns it into Celery's terms.

A batch's claims go to the store in one round trip, and so do its finishes
(``Store.claim_many``, ``Store.finish_many``); each article still has its own answer.

Where others hook in: every ``done``/``failed`` write is the store's finish script
(``Store.finish``, or ``finish_many`` for a batch), every hand-off ``Store.hand_off``; the
pipeline's cross-article state comes from the worker context (``context.share_state``);
a store write that fails is turned into an outcome by ``acks.store_unavailable``; the
stage durations of a run's documents go to the histograms when it ends
(``context.flush_metrics``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from copydesk.document import ID_PATTERN, Article, Document, InvalidArticle
from copydesk.extra_fields import log_moved_fields
from copydesk.logs import get_logger
from copydesk.pipeline import Pipeline, RunObserver
from copydesk.workers.queue.partial import PartialDocument
from copydesk.workers.queue.protocol import article_payload
from copydesk.workers.worker.acks import REDIS_UNAVAILABLE, Outcome, store_unavailable
from copydesk.workers.worker.context import WorkerContext
from copydesk.workers.worker.routing import Segment
from pydantic import ValidationError

log = get_logger("copydesk.worker")


@dataclass(frozen=True)
class Job:
    """One message: its task id, the worker node that received it, the submitted article."""

    task_id: str
    node: str
    data: Any


@dataclass
class Claimed:
    """An article this process claimed, and where its run stands."""

    index: int
    job: Job
    article: Article
    attempt: int
    doc: Document | None = None
    #: routed: the segment it goes to next (None: it is finished here)
    then: Segment | None = None
    #: routed: the spaCy parse to carry to that segment
    carried: bytes | None = None

    @property
    def id(self) -> str:
        return self.article.id or ""


def run(context: WorkerContext, jobs: Sequence[Job]) -> list[Outcome]:
    """Run ``jobs`` (one task's message, or a batch's) to the end; one outcome each."""
    outcomes: list[Outcome | None] = [None] * len(jobs)
    claimed: list[Claimed] = []
    where = {"stage": "(before the first stage)"}
    try:
        _validate_and_claim(context, jobs, outcomes, claimed)
        if claimed:
            _run_claimed(context, claimed, outcomes, where)
    except SoftTimeLimitExceeded:
        limit = context.settings.worker.soft_time_limit
        reason = (f"soft time limit of {limit}s exceeded in stage {where['stage']!r}"
                  if len(jobs) == 1 else f"soft time limit of {limit}s exceeded by its batch "
                  f"of {len(jobs)}; retried alone")
        _give_back(context, [c for c in claimed if outcomes[c.index] is None], outcomes, reason)
    except Exception as exc:
        log.error("run crashed", error=f"{type(exc).__name__}: {exc}",
                  traceback=traceback.format_exc())
        _give_back(context, [c for c in claimed if outcomes[c.index] is None], outcomes,
                   f"its run crashed: {type(exc).__name__}: {exc}; retried alone")
    finally:
        context.stage_progress().finished()
        context.flush_metrics()
    return [o or Outcome.again("not run: its batch stopped early") for o in outcomes]


# -- validate and claim ----------------------------------------------------------------


def _validate_and_claim(context: WorkerContext, jobs: Sequence[Job],
                        outcomes: list[Outcome | None], claimed: list[Claimed]) -> None:
    """Validate each job's article (an invalid one ends ``failed`` here), then claim the
    valid ones, a batch's in one round trip; what this process may run goes to ``claimed``.
    A claim Redis refused for another reason than being unavailable is raised once every
    answer is in ``claimed`` or ``outcomes`` (the run then gives the claimed back)."""
    valid: list[tuple[int, Job, Article]] = []
    for index, job in enumerate(jobs):
        try:
            article = _validate(context, job)
        except REDIS_UNAVAILABLE as exc:  # writing the failure of an invalid article
            outcomes[index] = store_unavailable(exc)
            continue
        if isinstance(article, Article):
            valid.append((index, job, article))
        else:
            outcomes[index] = article
    if not valid:
        return
    requests = [(a.id or "", job.task_id, job.node, f"{job.node}:{os.getpid()}",
                 article_payload(a)) for _, job, a in valid]
    try:
        answers = context.store.claim_many(requests)
    except REDIS_UNAVAILABLE as exc:
        for index, _, _ in valid:
            outcomes[index] = store_unavailable(exc)
        return
    refused: Exception | None = None
    for (index, job, article), answer in zip(valid, answers, strict=True):
        if isinstance(answer, REDIS_UNAVAILABLE):
            outcomes[index] = store_unavailable(answer)
        elif isinstance(answer, Exception):
            refused = refused or answer
        elif answer.action != "run":
            log.info("article not run", document_id=article.id, action=answer.action,
                     detail=answer.detail)
            status = answer.detail if answer.action == "skip" else "failed"
            outcomes[index] = Outcome.done({"id": article.id, "status": status})
        else:
            attempt = int(answer.detail) if answer.detail.isdigit() else 1
            claimed.append(Claimed(index, job, article, attempt))
    if refused is not None:
        raise refused


def _validate(context: WorkerContext, job: Job) -> Article | Outcome:
    """The job's article by the settings' article rules, or the outcome of an invalid one
    (recorded ``failed`` with the reason)."""
    try:
        valid = context.settings.article_rules().parse(job.data)
    except InvalidArticle as exc:
        article_id = fallback_id(job.data)
        context.store.finish(article_id, job.task_id, "failed", None,
                             f"invalid article: {exc}", job.node)
        log.warning("invalid article refused", document_id=article_id, error=str(exc))
        return Outcome.done({"id": article_id, "status": "failed"})
    assert valid.id is not None
    log_moved_fields(valid, "worker")
    return valid


def fallback_id(data: Any) -> str:
    """An id for an article too broken to have one, so its failure is still recorded."""
    given = data.get("id") if isinstance(data, dict) else None
    if isinstance(given, str) and re.match(ID_PATTERN, given):
        return given
    raw = json.dumps(data, sort_keys=True, default=str).encode("utf-8", "replace")
    return "invalid-" + hashlib.sha256(raw).hexdigest()[:32]


# -- run -------------------------------------------------------------------------------


def _observer(context: WorkerContext, claimed: list[Claimed],
              where: dict[str, str]) -> RunObserver:
    """Note the stage each article is in (published once it runs long); save partial
    Documents once they ran long."""
    store = context.store
    progress = context.stage_progress()
    by_id = {c.id: c for c in claimed}
    started = time.monotonic()

    def stage_started(stage: str, docs: Sequence[Document]) -> None:
        where["stage"] = stage
        progress.started([d.id for d in docs], stage)

    def stage_finished(stage: str, docs: Sequence[Document]) -> None:
        progress.finished()
        if time.monotonic() - started < context.settings.worker.partial_after:
            return
        for d in docs:
            c = by_id.get(d.id)
            if c is None:
                continue
            try:
                store.save_partial(d.id, c.job.task_id, c.attempt, d, stage)
            except Exception as exc:  # a retry then starts over: slower, never wrong
                log.warning("could not save the partial Document", document_id=d.id,
                            error=f"{type(exc).__name__}: {exc}")

    return RunObserver(worker=claimed[0].job.node, stage_started=stage_started,
                       stage_finished=stage_finished)


def _run_claimed(context: WorkerContext, claimed: list[Claimed],
                 outcomes: list[Outcome | None], where: dict[str, str]) -> None:
    if len(claimed) > 1:
        log.info("batch started", size=len(claimed), pid=os.getpid(),
                 documents=[c.id for c in claimed])
    observer = _observer(context, claimed, where)
    if context.routing is None:
        groups = _whole_groups(context, claimed)
    else:
        groups = _routed_groups(context, claimed)
    for group in groups:
        _guarded(context, group, group.members, outcomes, observer)
    finishing = []
    for c in claimed:
        if outcomes[c.index] is None and c.doc is not None:
            outcomes[c.index] = _give_back_or_hand_off(context, c, len(claimed) > 1)
            if outcomes[c.index] is None:
                finishing.append(c)
    _finish(context, finishing, outcomes)


@dataclass
class Group:
    """Articles that run together: the whole pipeline (``whole``), the rest of a partial
    Document (``resume``, one article) or routed segments (``segment``: the stages ``names``,
    ``final`` when they finish the article)."""

    kind: str
    members: list[Claimed]
    names: tuple[str, ...] = ()
    final: bool = True


def _whole_groups(context: WorkerContext, claimed: list[Claimed]) -> list[Group]:
    """Unrouted: fresh articles run the whole pipeline together; one a lost attempt left a
    partial Document of resumes from it, alone."""
    fresh: list[Claimed] = []
    groups: list[Group] = []
    for c in claimed:
        partial = context.store.load_partial(c.id, c.job.task_id) if c.attempt > 1 else None
        doc = _resumable(context.pipeline, c.article, partial)
        if doc is None:
            fresh.append(c)
        else:
            c.doc = doc
            groups.append(Group("resume", [c]))
    if fresh:
        groups.insert(0, Group("whole", fresh))
    return groups


def _resumable(pipeline: Pipeline, article: Article,
               partial: PartialDocument | None) -> Document | None:
    """The partial Document to resume ``article`` from, when it is usable: of the same
    article, and not needing the stage providing ``text`` again (the pipeline changed)."""
    if partial is None:
        return None
    try:
        doc = partial.document()
    except ValidationError as exc:
        log.warning("partial Document unreadable; starting over", document_id=article.id,
                    error=str(exc)[:200])
        return None
    todo = pipeline.plan(doc)
    text_stages = {b.name for b in pipeline.stages if "text" in b.stage.provides}
    if doc.id != article.id or todo.needs_source or text_stages & set(todo.to_run):
        return None
    log.info("resuming from a partial Document", document_id=article.id,
             saved_by_attempt=partial.attempt, after_stage=partial.stage, to_run=todo.to_run)
    return doc


def _routed_groups(context: WorkerContext, claimed: list[Claimed]) -> list[Group]:
    """Routed: each article's Document (from its partial, if an earlier segment or attempt
    saved one) and the segments due on it here; articles due the same stages run together."""
    assert context.routing is not None
    pipeline, shared = context.pipeline, context.pipeline.services.shared_parse
    groups: dict[tuple[tuple[str, ...], bool], list[Claimed]] = {}
    for c in claimed:
        partial = context.store.load_partial(c.id, c.job.task_id)
        doc: Document | None = None
        if partial is not None:
            try:
                doc = partial.document()
            except ValidationError as exc:
                log.warning("partial Document unreadable; starting over", document_id=c.id,
                            error=str(exc)[:200])
        if doc is None or doc.id != c.id:
            doc = Document.from_article(c.article)
        if partial is not None and partial.parse and doc.id == partial.article_id:
            shared.adopt(doc, partial.parse)
        step = context.routing.next_step(pipeline, doc)
        c.doc, c.then = doc, step.then
        if not step.run:
            if step.then is None:  # nothing left to run: a finished Document
                doc.status = "done"
            continue
        context.store.set_segment(c.id, step.run[0].label, step.run[0].queue)
        names = tuple(name for seg in step.run for name in seg.stages)
        groups.setdefault((names, step.then is None), []).append(c)
    return [Group("segment", members, names, final)
            for (names, final), members in groups.items()]


def _run_group(context: WorkerContext, group: Group, members: list[Claimed],
               observer: RunObserver) -> None:
    """Run ``members`` of ``group`` (all of them, or one when a batch is retried alone)."""
    pipeline = context.pipeline
    if group.kind == "whole":
        docs = pipeline.process_many([c.article for c in members], observer)
        for c, doc in zip(members, docs, strict=True):
            c.doc = doc
        return
    if group.kind == "resume":
        for c in members:
            c.doc = pipeline.resume(c.doc or Document.from_article(c.article), observer)
        return
    docs = [c.doc or Document.from_article(c.article) for c in members]
    pipeline.run_segment(docs, group.names, group.final, observer)
    shared = pipeline.services.shared_parse
    for c, doc in zip(members, docs, strict=True):
        c.doc = doc
        if c.then is not None and _reads_parse(pipeline, c.then):
            c.carried = shared.pack(doc)
        if not group.final:
            shared.release(doc)


def _reads_parse(pipeline: Pipeline, segment: Segment) -> bool:
    wanted = set(segment.stages)
    return any(b.stage.uses_parse for b in pipeline.stages if b.name in wanted)


def _guarded(context: WorkerContext, group: Group, members: list[Claimed],
             outcomes: list[Outcome | None], observer: RunObserver) -> None:
    """Run ``members`` of ``group``; should the run itself crash (not a stage: stages are
    isolated), run them one at a time, and fail one that crashes alone, with the traceback."""
    try:
        _run_group(context, group, members, observer)
        return
    except SoftTimeLimitExceeded:
        raise
    except Exception as exc:
        if len(members) > 1:
            log.warning("batch failed; its articles run one at a time",
                        error=f"{type(exc).__name__}: {exc}")
            for c in members:
                _guarded(context, group, [c], outcomes, observer)
            return
        c = members[0]
        crash = f"the pipeline crashed: {type(exc).__name__}: {exc}"
        trace = traceback.format_exc()
        try:
            context.store.finish(c.id, c.job.task_id, "failed", None, crash, c.job.node, trace)
            outcomes[c.index] = Outcome.done({"id": c.id, "status": "failed"})
        except REDIS_UNAVAILABLE as err:
            outcomes[c.index] = store_unavailable(err)
        log.error("pipeline crashed", document_id=c.id, error=crash, traceback=trace)


# -- finish, hand off, give back -------------------------------------------------------


def _finish(context: WorkerContext, finishing: list[Claimed],
            outcomes: list[Outcome | None]) -> None:
    """Write the result of each of ``finishing``, a batch's in one round trip. A write Redis
    refused for another reason than being unavailable is raised once the others are
    settled (the run then gives back what is not)."""
    if not finishing:
        return
    writes = []
    for c in finishing:
        assert c.doc is not None
        writes.append((c.id, c.job.task_id, c.doc.status, c.doc.to_json(),
                       failure_summary(c.doc), c.job.node, log_tracebacks(c.doc)))
    try:
        answers = context.store.finish_many(writes)
    except REDIS_UNAVAILABLE as exc:
        answers = [exc] * len(writes)
    refused: Exception | None = None
    for c, answer in zip(finishing, answers, strict=True):
        assert c.doc is not None
        if isinstance(answer, REDIS_UNAVAILABLE):
            outcomes[c.index] = store_unavailable(answer)
        elif isinstance(answer, Exception):
            refused = refused or answer
        else:
            outcomes[c.index] = Outcome.done({"id": c.id, "status": c.doc.status})
    if refused is not None:
        raise refused


def _give_back_or_hand_off(context: WorkerContext, c: Claimed, batched: bool
                           ) -> Outcome | None:
    """Give one article back when the soft time limit cut one of its stages short, or hand
    it to its next segment; None when its result is to be written (``_finish``)."""
    store, doc = context.store, c.doc
    assert doc is not None
    try:
        stage = timed_out_stage(doc)
        if stage is not None:
            reason = (f"soft time limit of {context.settings.worker.soft_time_limit}s exceeded"
                      f" in stage {stage!r}" + (" (in a batch); retried alone" if batched else ""))
            store.release(c.id, c.job.task_id, reason)
            log.warning("article timed out; re-queued", document_id=c.id, reason=reason)
            return Outcome.again(reason)
        if c.then is not None and doc.status != "failed":
            last = doc.runs[-1].stage if doc.runs else ""
            if not store.hand_off(c.id, c.job.task_id, doc, last, article_payload(c.article),
                                  c.then.queue, c.then.label, c.carried):
                log.warning("article not handed on: another submission holds it",
                            document_id=c.id)
            log.info("article handed on", document_id=c.id, queue=c.then.queue,
                     segment=c.then.label)
            return Outcome.done({"id": c.id, "status": "queued", "queue": c.then.queue})
    except REDIS_UNAVAILABLE as exc:
        return store_unavailable(exc)
    return None


def timed_out_stage(doc: Document) -> str | None:
    """The stage whose run the soft time limit cut short, if one was."""
    run_ = next((r for r in doc.runs
                 if r.error and r.error.startswith("SoftTimeLimitExceeded")), None)
    return run_.stage if run_ is not None else None


def failure_summary(doc: Document) -> str | None:
    """Why a failed Document failed (its required stages' errors); None when it is done."""
    if doc.status != "failed":
        return None
    failed = [r for r in doc.runs if r.status == "failed"]
    return "; ".join(f"required stage {r.stage!r} failed: {r.error}" for r in failed) \
        or "a required stage failed"


def log_tracebacks(doc: Document) -> str | None:
    """Log each stage that raised, with its traceback; return them all for the record."""
    parts = []
    for r in doc.runs:
        if r.status == "failed" and r.traceback:
            log.error("stage failed", document_id=doc.id, stage=r.stage, plugin=r.plugin,
                      version=r.version, error=r.error, traceback=r.traceback)
            parts.append(f"stage {r.stage!r} (plugin {r.plugin!r} {r.version}):\n"
                         f"{r.traceback}")
    return "\n".join(parts) or None


def _give_back(context: WorkerContext, claimed: list[Claimed],
               outcomes: list[Outcome | None], reason: str) -> None:
    """Release the claimed articles of a run that stopped; their messages are re-queued."""
    for c in claimed:
        try:
            context.store.release(c.id, c.job.task_id, reason)
        except Exception as exc:  # the lease lapses instead
            log.error("could not give the article back", document_id=c.id,
                      error=f"{type(exc).__name__}: {exc}")
        outcomes[c.index] = Outcome.again(reason)
    if claimed:
        log.warning("run stopped; its articles are re-queued", reason=reason,
                    documents=[c.id for c in claimed])
