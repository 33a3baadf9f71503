"""``copydesk process -j N``: the pipeline on N processes forked after the models loaded.

The parent builds the pipeline and loads its models, then forks N children, which share
those pages copy-on-write (nothing is loaded twice). The articles are inherited by the
children too: what travels over the pipes is a slice ``(start, stop)`` one way and the
finished Documents the other. Slices are handed out as children free up, and the parent
yields the Documents in input order as soon as every earlier one is in, so the output is
the same as one process's and a caller can write it as it comes.

Cross-article stages (``Stage.cross_article``, and the stages that read what they
provide) do not run in the children: the parent runs them on the Documents in input order
as they come back, so what they remember (``copydesk.state``) and what they write is
exactly what one process gives, whatever N.

Children ignore SIGINT: Ctrl-C (which the terminal sends to the whole process group)
reaches the parent alone, which stops the children and keeps what it already wrote.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator, Sequence

from copydesk.document import Article, Document
from copydesk.pipeline import Pipeline


class _Shared:
    """What the children inherit at fork: the ready pipeline and the articles."""

    pipeline: Pipeline | None = None
    articles: Sequence[Article] = ()


_shared = _Shared()


def resolve_jobs(jobs: int) -> int:
    """``jobs`` processes, where 0 means one per core this process may run on."""
    if jobs > 0:
        return jobs
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def chunk_size(total: int, jobs: int, batch_size: int) -> int:
    """Articles per hand-out: the pipeline's batch size, smaller when there are few
    articles, so every process gets about four slices and none waits on a long tail."""
    return max(1, min(batch_size, -(-total // (jobs * 4))))


def _child_init() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_slice(bounds: tuple[int, int]) -> tuple[int, list[Document]]:
    pipeline = _shared.pipeline
    assert pipeline is not None, "the pipeline is set before the children fork"
    start, stop = bounds
    return start, pipeline.process_many(list(_shared.articles[start:stop]), defer=True)


def process_parallel(pipeline: Pipeline, articles: Sequence[Article], jobs: int,
                     chunk: int | None = None,
                     on_finished: Callable[[int], None] | None = None) -> Iterator[Document]:
    """Process ``articles`` on ``jobs`` forked processes; yield Documents in input order.

    ``pipeline.setup()`` runs here, before the fork. ``on_finished(n)`` is called as each
    slice of ``n`` Documents comes back, in any order (a progress bar counts with it).
    Closing the generator early (or an exception in the caller, e.g. KeyboardInterrupt)
    terminates the children."""
    pipeline.setup()
    if not articles:
        return
    size = chunk or chunk_size(len(articles), jobs, pipeline.settings.pipeline.batch_size)
    slices = [(i, min(i + size, len(articles))) for i in range(0, len(articles), size)]
    _shared.pipeline, _shared.articles = pipeline, articles
    context = multiprocessing.get_context("fork")
    pool = context.Pool(min(jobs, len(slices)), initializer=_child_init)
    try:
        pending: dict[int, list[Document]] = {}
        next_start = 0
        for start, docs in pool.imap_unordered(_run_slice, slices):
            pending[start] = docs
            if on_finished is not None:
                on_finished(len(docs))
            while next_start in pending:
                ready = pending.pop(next_start)
                next_start += len(ready)
                yield from pipeline.run_deferred(ready)
        pool.close()
        pool.join()
    finally:
        pool.terminate()
        _shared.pipeline, _shared.articles = None, ()
