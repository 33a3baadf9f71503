"""A backfill through the queue: the submitter's and Redis's peak memory, and the rate.

    .venv/bin/python bench/backfill.py [--articles 100000] [--workers 1] [--maxmemory 64mb]
                                       [--window]

Writes a JSON Lines file of ``--articles`` articles (the shared corpus, cycled, each copy with
an id of its own), starts a private Redis with ``--maxmemory`` and the ``noeviction`` policy,
``--workers`` ``copydesk worker`` processes with a cheap pipeline (cleaning only), and runs
``copydesk submit FILE`` as a user would. It prints the submitter's peak resident memory (it
must stay flat however long the file), Redis's peak ``used_memory`` against its limit (it
must never go over), the submit and processing rates, and Redis bytes per finished article.

With ``--window`` a ``jsonl`` sink is configured with ``sinks.keep_in_redis = 0`` and a
``copydesk sink jsonl`` consumer runs beside the workers: archived records leave Redis, and
the bytes per finished article show what the window saves. The machine's load is printed at
the start and the end (the machine may be shared).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "bbc-news-2005.jsonl"
COPYDESK = str(Path(sys.executable).with_name("copydesk"))


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_feed(path: Path, count: int) -> int:
    """``count`` articles from the corpus, cycled, each with an id of its own; returns the
    file's size in bytes."""
    corpus = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    with path.open("w", encoding="utf-8") as out:
        for i, article in zip(range(count), itertools.cycle(corpus), strict=False):
            article = {**article, "id": f"backfill-{i}"}
            out.write(json.dumps(article, ensure_ascii=False) + "\n")
    return path.stat().st_size


class MemoryWatch(threading.Thread):
    """Samples Redis ``used_memory`` every 0.1 s; ``peak`` is the highest seen."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.r = redis.Redis.from_url(url)
        self.peak = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            with contextlib.suppress(redis.RedisError):
                self.peak = max(self.peak, int(self.r.info("memory")["used_memory"]))
            time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--maxmemory", default=None,
                        help="Redis's limit (default: 64mb with --window; 2gb without, since "
                        "then every result stays in Redis for worker.result_ttl)")
    parser.add_argument("--window", action="store_true",
                        help="archive to a jsonl sink with keep_in_redis = 0")
    args = parser.parse_args()
    args.maxmemory = args.maxmemory or ("64mb" if args.window else "2gb")
    if not CORPUS.exists():
        sys.exit(f"the corpus is not at {CORPUS}")
    server = shutil.which("redis-server") or sys.exit("redis-server is not installed")
    print(f"load at start: {uptime()}")
    tmp = Path(tempfile.mkdtemp(prefix="copydesk-backfill-"))
    feed = tmp / "feed.jsonl"
    size = write_feed(feed, args.articles)
    print(f"feed: {args.articles:,} articles, {size / 2**20:.0f} MB of JSON Lines")
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    redis_proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
         "no", "--maxmemory", args.maxmemory, "--maxmemory-policy", "noeviction"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPYDESK_")}
    env.update({"COPYDESK_REDIS_URL": url, "COPYDESK_LOAD_PLUGINS": "queue,cleaning,jsonl",
                "COPYDESK_PIPELINE__STAGES": "cleaning", "COPYDESK_DETECT_LANGUAGE": "false",
                "COPYDESK_LOG_LEVEL": "WARNING"})
    if args.window:
        env.update({"COPYDESK_SINKS__JSONL__PATH": str(tmp / "archive.jsonl"),
                    "COPYDESK_SINKS__KEEP_IN_REDIS": "0"})
    helpers: list[subprocess.Popen[bytes]] = []
    r = redis.Redis.from_url(url)
    try:
        for _ in range(100):
            try:
                r.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        limit = int(r.info("memory")["maxmemory"])
        base = int(r.info("memory")["used_memory"])
        commands = [["worker", "-n", f"backfill{i}@bench", "-c", str(args.concurrency)]
                    for i in range(args.workers)]
        if args.window:
            commands.append(["sink", "jsonl"])
        for i, command in enumerate(commands):
            with open(tmp / f"helper{i}.log", "wb") as log:
                helpers.append(subprocess.Popen([COPYDESK, *command], env=env, stdout=log,
                                                stderr=subprocess.STDOUT))
        time.sleep(5)
        for i, proc in enumerate(helpers):
            if proc.poll() is not None:
                sys.exit(f"{commands[i][0]} exited: "
                         + (tmp / f"helper{i}.log").read_text(errors="replace")[-2000:])
        watch = MemoryWatch(url)
        watch.start()
        started = time.monotonic()
        with open(tmp / "ids.txt", "wb") as ids, open(tmp / "submit.log", "wb") as log:
                submit = subprocess.run([COPYDESK, "submit", str(feed)], env=env, stdout=ids,
                                    stderr=log, check=False)
        submitted = time.monotonic() - started
        # only the submitter has ended and been waited for yet: this is its peak alone
        peak_rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        while int(r.zcard("copydesk:index:queued")) or int(r.zcard("copydesk:index:running")):
            time.sleep(0.5)
        finished = time.monotonic() - started
        watch.stop.set()
        watch.join()
        done = int(r.zcard("copydesk:index:done"))
        used = int(r.info("memory")["used_memory"])
        sent = sum(1 for _ in (tmp / "ids.txt").open("rb"))
        print(f"submit: exit {submit.returncode}, {sent:,} submitted, {sent / submitted:,.0f} "
              f"articles/s ({submitted:.0f} s); the submitter's peak resident memory "
              f"{peak_rss_kb / 1024:.0f} MB for a {size / 2**20:.0f} MB file")
        print(f"processed: {done:,} done in {finished:.0f} s, {done / finished:,.1f} articles/s "
              f"with {args.workers} worker(s) x {args.concurrency} processes, cleaning only")
        print(f"Redis: peak used_memory {watch.peak / 2**20:.1f} MB of maxmemory "
              f"{limit / 2**20:.1f} MB ({'over' if watch.peak > limit else 'never over'} it); "
              f"after the run {(used - base) / max(done, 1):,.0f} bytes per finished article"
              + (" (window: archived records left Redis)" if args.window else ""))
        print(f"load at end: {uptime()}")
    finally:
        for proc in helpers:
            proc.terminate()
        for proc in helpers:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        redis_proc.terminate()
        redis_proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
