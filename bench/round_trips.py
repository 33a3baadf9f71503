"""Redis round trips per article in a worker's lifecycle, by call site.

    .venv/bin/python bench/round_trips.py [--n 192] [--batch 8] [--offset 0]

Runs what a pool process runs for each batch (``workers.worker.lifecycle.run``: claims, the
default pipeline with its cross-article stages on the Redis state, stage progress, finishes
and metrics) over a slice of ../shared/corpus/bbc-news-2005.jsonl, in batches of
``--batch``, against a ``redis-server`` of its own on a free port, without Celery. Every
request redis-py sends (a command, or a pipeline at once) is one round trip; it is counted
against the innermost copydesk function outside the store and state layers that caused it.

Prints round trips per article in total and per call site. Each round trip costs a pool
process about 0.1-0.15 ms of redis-py CPU (see docs/queue.md), which is what separates one
default worker's rate from in-process (``bench/throughput.py --paired``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import redis  # noqa: E402
from copydesk import Settings  # noqa: E402
from copydesk.logs import configure_logging  # noqa: E402
from copydesk.workers.worker import lifecycle  # noqa: E402
from copydesk.workers.worker.context import WorkerContext  # noqa: E402
from throughput import load_articles, start_redis  # noqa: E402

#: Frames in these files are the layers a round trip goes through, not its cause.
_LAYERS = ("workers/queue/", "core/state.py", "copydesk/state.py", "/redis/")


class RoundTrips:
    """Counts redis-py's requests by call site while installed, and the seconds spent in
    redis-py's calls (packing, sending, waiting for Redis, parsing the answer)."""

    def __init__(self) -> None:
        self.sites: Counter[str] = Counter()
        self.total = 0
        self.seconds = 0.0
        #: of which this process's CPU (the rest: waiting for Redis)
        self.cpu = 0.0
        self.site_seconds: Counter[str] = Counter()
        self.last = "(other)"
        self._original: Any = None
        self._calls: Any = None

    def __enter__(self) -> RoundTrips:
        connection = redis.connection.AbstractConnection
        self._original = connection.send_packed_command
        counter = self

        def send(conn: Any, command: Any, check_health: bool = True) -> None:
            counter.total += 1
            started, cpu = time.perf_counter(), time.thread_time()
            counter.last = _site()
            counter.sites[counter.last] += 1
            counter.seconds -= time.perf_counter() - started  # finding the site is not Redis
            counter.cpu -= time.thread_time() - cpu
            counter._original(conn, command, check_health)

        connection.send_packed_command = send  # type: ignore[method-assign]
        client, pipeline = redis.client.Redis, redis.client.Pipeline
        self._calls = (client.execute_command, pipeline.execute)

        def timed(original: Any) -> Any:
            def call(self: Any, *args: Any, **kwargs: Any) -> Any:
                started, cpu = time.perf_counter(), time.thread_time()
                before = counter.seconds
                try:
                    return original(self, *args, **kwargs)
                finally:
                    counter.seconds += time.perf_counter() - started
                    counter.cpu += time.thread_time() - cpu
                    counter.site_seconds[counter.last] += counter.seconds - before
            return call

        def command(conn: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(conn, pipeline):  # queued only: timed when the pipeline executes
                return pipeline.execute_command(conn, *args, **kwargs)
            return timed_command(conn, *args, **kwargs)

        timed_command = timed(self._calls[0])
        client.execute_command = command  # type: ignore[method-assign]
        pipeline.execute = timed(self._calls[1])  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        redis.connection.AbstractConnection.send_packed_command = (  # type: ignore[method-assign]
            self._original)
        redis.client.Redis.execute_command = self._calls[0]  # type: ignore[method-assign]
        redis.client.Pipeline.execute = self._calls[1]  # type: ignore[method-assign]


def _site() -> str:
    for frame in reversed(traceback.extract_stack()[:-2]):
        name = frame.filename.replace("\\", "/")
        if str(ROOT) not in name or any(layer in name for layer in _LAYERS) or \
                name.endswith("bench/round_trips.py"):
            continue
        return f"{Path(name).relative_to(ROOT)}:{frame.name}"
    return "(other)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=192, help="articles to run")
    parser.add_argument("--batch", type=int, default=8, help="articles per batch")
    parser.add_argument("--offset", type=int, default=0, help="first corpus row")
    args = parser.parse_args()
    configure_logging("WARNING", "console")
    articles = load_articles(args.n + args.batch, args.offset)
    warm, timed = articles[:args.batch], articles[args.batch:]
    with tempfile.TemporaryDirectory() as workdir:
        proc, url = start_redis(Path(workdir))
        try:
            prefix = "rt" + uuid.uuid4().hex[:6]
            settings = Settings(redis_url=url, worker={"key_prefix": prefix})  # type: ignore[arg-type]
            context = WorkerContext.build(settings)
            node = f"bench@{prefix}"

            def run(batch: list[dict[str, Any]]) -> None:
                jobs = [lifecycle.Job(uuid.uuid4().hex, node, a) for a in batch]
                for outcome in lifecycle.run(context, jobs):
                    if outcome.requeue is not None:
                        raise RuntimeError(f"an article was not finished: {outcome}")

            run(warm)  # connections, scripts and the pipeline's first calls
            started = time.perf_counter()
            with RoundTrips() as trips:
                for i in range(0, len(timed), args.batch):
                    run(timed[i:i + args.batch])
            elapsed = time.perf_counter() - started
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    n = len(timed)
    print(f"{n} articles in batches of {args.batch}: "
          f"{trips.total / n:.2f} Redis round trips an article, "
          f"{1000 * trips.seconds / n:.2f} ms an article in redis-py calls "
          f"({1000 * trips.cpu / n:.2f} ms of it CPU, the rest waiting for Redis) "
          f"(of {1000 * elapsed / n:.1f} ms an article in all)")
    print("  trips   ms  (an article, by call site)")
    for site, count in trips.sites.most_common():
        print(f"  {count / n:5.2f} {1000 * trips.site_seconds[site] / n:5.2f}  {site}")


if __name__ == "__main__":
    main()
