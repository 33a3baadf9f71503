"""The body of ``copydesk.reprocess``: replace one stored Document with its stale stages
re-run, unless the record moved on since ``reprocess --stored`` planned it
(``workers.queue.reprocess`` plans and enqueues)."""

from __future__ import annotations

import time
from typing import Any

from copydesk.document import Document
from copydesk.logs import get_logger
from copydesk.pipeline import Pipeline, ReprocessError, RunObserver
from copydesk.workers.queue.reprocess import enqueue_revisits
from copydesk.workers.queue.store import Store

log = get_logger("copydesk.reprocess")


#: How often a revisit waits for a Document still queued or running (backing off).
REVISIT_TRIES = 12


def reprocess_stored(ref: Any, store: Store, pipeline: Pipeline, worker: str) -> dict[str, Any]:
    """The body of ``copydesk.reprocess``: re-run the stale stages of one stored Document
    and replace it, unless the record moved on since it was planned. With ``rerun`` (a
    revisit), those stages run again on the Document the record holds now."""
    if not isinstance(ref, dict) or not isinstance(ref.get("id"), str):
        log.warning("reprocess message without an id refused", ref=str(ref)[:200])
        return {"id": None, "status": "invalid"}
    article_id, task_id = ref["id"], str(ref.get("task_id"))
    revision = int(ref.get("revision") or 0)
    [(_, status, current_rev, current_task, raw)] = store.stored_documents([article_id])
    rerun = [str(s) for s in ref.get("rerun") or ()]
    if rerun and status in ("queued", "running"):
        return _wait_for(store, article_id, rerun, int(ref.get("tries") or 0))
    if rerun and current_task is not None:
        task_id, revision = current_task, current_rev
    if raw is None or status not in ("done", "failed") or current_task != task_id \
            or current_rev != revision:
        log.info("stored Document moved on; not reprocessed", document_id=article_id,
                 status=status)
        return {"id": article_id, "status": "superseded"}
    try:
        doc = Document.model_validate_json(raw)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        log.warning("stored Document unreadable; not reprocessed", document_id=article_id,
                    error=str(exc)[:300])
        return {"id": article_id, "status": "unreadable"}
    doc.runs = [r for r in doc.runs if r.stage not in rerun]
    try:
        out, todo = pipeline.reprocess(doc, RunObserver(worker=worker))
    except ReprocessError as exc:
        log.warning("cannot reprocess", document_id=article_id, error=str(exc))
        return {"id": article_id, "status": "refused"}
    if not todo.changes:
        return {"id": article_id, "status": "current"}
    replaced = store.replace_document(article_id, task_id, revision, out.to_json(), out.status,
                                      worker, todo.to_run)
    log.info("reprocessed" if replaced else "stored Document moved on; result dropped",
             document_id=article_id, stages=todo.to_run)
    return {"id": article_id, "status": "reprocessed" if replaced else "superseded"}


def _wait_for(store: Store, article_id: str, rerun: list[str], tries: int) -> dict[str, Any]:
    """A revisit of a Document not finished yet: queued again after a pause, a few times."""
    if tries >= REVISIT_TRIES:
        log.warning("revisit dropped: the Document did not finish", document_id=article_id,
                    stages=rerun)
        return {"id": article_id, "status": "unfinished"}
    time.sleep(min(1.0, 0.05 * 2 ** tries))
    enqueue_revisits(store, [article_id], rerun[0], tries + 1)
    return {"id": article_id, "status": "waiting"}
