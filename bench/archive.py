"""The archive's cost: Documents per second into each sink against the pipeline's own rate,
and a sink's CPU per article as a share of a worker's.

    .venv/bin/python bench/archive.py [--n 200] [--repeat 3] [--no-outbox]

Processes ``--n`` articles of ../shared/corpus/bbc-news-2005.jsonl in-process with the
default pipeline (models loaded first, not timed) and takes that as the worker's rate and
CPU per article. Then, for each built-in sink (``postgres`` on a private PostgreSQL this
script starts with initdb/pg_ctl, ``parquet`` and ``jsonl`` in a temporary directory), it
writes the same Documents ``--repeat`` times in the sink's batches and prints the best run:
Documents per second, this process's CPU per Document (what the sink costs the consumer)
and, for postgres, the server's CPU per Document too, each as a share of the pipeline's
CPU per article (the aim: under 5%).

Unless ``--no-outbox``, it also runs the whole queue-side path of ``copydesk sink``: the
Documents stored in a private Redis through the store's finish script (which appends the
outbox), then drained by the consumer loop (``workers.queue.drain``) into each sink,
reading each Document back from Redis as a consumer does. It prints ``uptime`` at the start
and the end (the machine is shared).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from copydesk import Pipeline, Settings  # noqa: E402
from copydesk.document import Article, Document  # noqa: E402
from copydesk.plugin_manager import build_plugin_manager  # noqa: E402
from copydesk.sinks import Sink, SinkConfig, build_sink  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "bbc-news-2005.jsonl"


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def articles(n: int) -> list[Article]:
    with CORPUS.open(encoding="utf-8") as lines:
        out = []
        for line in itertools.islice(lines, n):
            record = json.loads(line)
            record.pop("category", None)
            out.append(Article.model_validate(record))
        return out


def cpu() -> float:
    return time.process_time()


def postgres_cpu(data_dir: Path) -> float:
    """CPU seconds of the PostgreSQL server: the postmaster with its reaped children and its
    live ones (from /proc)."""
    pid = int((data_dir / "postmaster.pid").read_text().split()[0])
    tick = os.sysconf("SC_CLK_TCK")

    def stat(p: int) -> list[str]:
        raw = Path(f"/proc/{p}/stat").read_text()
        return raw[raw.rindex(")") + 2:].split()

    fields = stat(pid)
    total = sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                f = stat(int(entry.name))
            except (OSError, ValueError):
                continue
            if int(f[1]) == pid:
                total += int(f[11]) + int(f[12])
    return total / tick


def run_pipeline(items: list[Article]) -> tuple[list[Document], float, float]:
    pipeline = Pipeline.build(Settings())
    pipeline.setup()
    pipeline.process(items[0])  # warm
    wall, c0 = time.perf_counter(), cpu()
    docs = list(pipeline.iter_process(items))
    return docs, time.perf_counter() - wall, cpu() - c0


def make_sink(name: str, table: dict[str, Any]) -> Sink[SinkConfig]:
    settings = Settings(sinks={name: table})
    return build_sink(name, settings, build_plugin_manager(settings))


def write_all(sink: Sink[SinkConfig], docs: list[Document]) -> None:
    size = sink.config.batch_size
    for i in range(0, len(docs), size):
        refused = sink.write(docs[i:i + size])
        assert not refused, refused


def time_sink(name: str, table: dict[str, Any], docs: list[Document], repeat: int,
              server_cpu: Any = None) -> dict[str, float]:
    best: dict[str, float] | None = None
    for _ in range(repeat):
        sink = make_sink(name, table)
        sink.open()
        s0 = server_cpu() if server_cpu else 0.0
        wall, c0 = time.perf_counter(), cpu()
        write_all(sink, docs)
        wall, used = time.perf_counter() - wall, cpu() - c0
        sink.close()
        time.sleep(0.3)  # let the server reap the connection's backend
        server = (server_cpu() - s0) if server_cpu else 0.0
        run = {"rate": len(docs) / wall, "cpu": used / len(docs), "server": server / len(docs)}
        if best is None or run["rate"] > best["rate"]:
            best = run
    assert best is not None
    return best


def drain_through_outbox(name: str, table: dict[str, Any], docs: list[Document],
                         workdir: Path) -> dict[str, float]:
    """Store the Documents as workers finish them (the outbox appended), then drain them
    into the sink with the consumer loop; rate and CPU of the consumer."""
    from copydesk.workers.queue.drain import Drain
    from copydesk.workers.queue.outbox import Outbox
    from copydesk.workers.queue.store import Store

    from tests.integration.conftest import start_redis_server

    proc, url = start_redis_server(workdir)
    try:
        settings = Settings(redis_url=url, sinks={name: table})
        store = Store.from_settings(settings)
        store.prepare_outbox([name])
        for doc in docs:
            store.finish(doc.id, "bench", "done", doc.to_json(), None, "bench")
        sink = make_sink(name, table)
        sink.open()
        outbox = Outbox(store.r, store.keys, name, "bench", 60)
        drain = Drain(sink, store, outbox, sink.config.batch_size)
        wall, c0 = time.perf_counter(), cpu()
        stats = drain.run(until_empty=True, block_ms=10)
        wall, used = time.perf_counter() - wall, cpu() - c0
        sink.close()
        assert stats.written == len(docs), stats
        return {"rate": len(docs) / wall, "cpu": used / len(docs)}
    finally:
        proc.terminate()
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-outbox", action="store_true")
    args = parser.parse_args()
    print(f"uptime at start: {uptime()}")
    import psycopg  # noqa: F401  (the sinks import these on first use: not timed)
    import pyarrow.parquet  # noqa: F401

    from tests.postgres_server import PostgresServer

    items = articles(args.n)
    docs, wall, used = run_pipeline(items)
    per_article = used / len(docs)
    print(f"pipeline (default stages, in-process, one process): {len(docs) / wall:.1f} "
          f"articles/s, {per_article * 1000:.1f} ms CPU per article")

    tmp = Path(tempfile.mkdtemp(prefix="copydesk-bench-archive-"))
    server = PostgresServer()
    try:
        tables = {
            "postgres": {"url": server.new_database()},
            "parquet": {"path": str(tmp / "parquet")},
            "jsonl": {"path": str(tmp / "archive.jsonl")},
        }
        print(f"\nsinks, {len(docs)} Documents written in each sink's batches "
              f"(best of {args.repeat}):")
        print(f"{'sink':<9} {'docs/s':>8} {'x pipeline':>11} {'CPU/doc':>9} {'share':>7} "
              f"{'server CPU/doc':>15} {'share':>7}")
        for name, table in tables.items():
            server_cpu = (lambda: postgres_cpu(server.data)) if name == "postgres" else None
            r = time_sink(name, table, docs, args.repeat, server_cpu)
            server_cols = (f"{r['server'] * 1000:>12.2f} ms {r['server'] / per_article:>7.1%}"
                           if server_cpu else f"{'-':>15} {'-':>7}")
            print(f"{name:<9} {r['rate']:>8.0f} {r['rate'] / (len(docs) / wall):>10.1f}x "
                  f"{r['cpu'] * 1000:>6.2f} ms {r['cpu'] / per_article:>7.1%} {server_cols}")
        if not args.no_outbox:
            print(f"\nthrough the outbox (finish script -> stream -> copydesk sink's loop, "
                  f"{len(docs)} Documents read back from Redis):")
            for name, table in tables.items():
                if name == "postgres":
                    table = {"url": server.new_database()}
                r = drain_through_outbox(name, table, docs, tmp)
                print(f"{name:<9} {r['rate']:>8.0f} docs/s {r['rate'] / (len(docs) / wall):>6.1f}x "
                      f"pipeline, consumer CPU {r['cpu'] * 1000:.2f} ms/doc = "
                      f"{r['cpu'] / per_article:.1%} of a worker's per article")
    finally:
        server.close()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nuptime at end: {uptime()}")


if __name__ == "__main__":
    main()
