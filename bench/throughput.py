"""Throughput of the queue: the same articles in-process, and through Redis by 1 and 2 workers.

    .venv/bin/python bench/throughput.py [--n 200] [--latency-samples 30]

Takes a slice of ../shared/corpus/bbc-news-2005.jsonl and processes it with the default
pipeline (every installed stage):

(a) in-process, one process, one article at a time (as a worker does);
(b) through Redis by one ``copydesk worker`` with one pool process, then by two such workers.

With ``--http`` (or ``--only-http``) it first times submits/second through ``copydesk serve``
against direct ``Client`` submits, one per call and in batches, in the same run.

It prints articles/second for each, the ratio (b1)/(a) (the queue's overhead), the scaling
efficiency from one to two workers (rate2 / (2 × rate1)), and the enqueue-to-result latency
(submit → ``Client.wait`` returns) p50/p95 at low load, one article at a time, next to the
in-process time per article. It starts its own ``redis-server`` on a free port unless
``--redis-url`` is given, and its own workers; model loading is not timed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from copydesk import Pipeline, Settings  # noqa: E402
from copydesk.document import parse_article  # noqa: E402
from copydesk.logs import configure_logging  # noqa: E402
from copydesk.workers.client import Client  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "bbc-news-2005.jsonl"
COPYDESK = str(Path(sys.executable).with_name("copydesk"))


def load_articles(n: int, offset: int = 0) -> list[dict[str, Any]]:
    rows = []
    with CORPUS.open(encoding="utf-8") as lines:
        for i, line in enumerate(lines):
            if i < offset:
                continue
            row = json.loads(line)
            rows.append({k: row[k] for k in ("id", "title", "text", "source") if row.get(k)})
            if len(rows) == n:
                break
    return rows


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_redis(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(workdir)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    import redis

    for _ in range(100):
        try:
            redis.Redis.from_url(url).ping()
            return proc, url
        except redis.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("redis-server did not start")


def tree(pid: int) -> list[int]:
    """``pid`` and its descendants (Linux /proc)."""
    out = [pid]
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            children = (task / "children").read_text().split()
            for child in children:
                out.extend(tree(int(child)))
    except OSError:
        pass
    return out


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds used so far by these processes."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def in_process(articles: list[dict[str, Any]]) -> tuple[float, list[float], float]:
    """(a): seconds for all, per-article seconds (one at a time), and CPU seconds."""
    pipeline = Pipeline.build(Settings())
    pipeline.setup()
    pipeline.process(parse_article(articles[0]))  # warm caches, as a worker's first task
    per_article = []
    cpu0 = time.process_time()
    started = time.perf_counter()
    for data in articles:
        t0 = time.perf_counter()
        pipeline.process(parse_article(data))
        per_article.append(time.perf_counter() - t0)
    return time.perf_counter() - started, per_article, time.process_time() - cpu0


class Workers:
    """``copydesk worker`` subprocesses on one queue/prefix of their own."""

    def __init__(self, redis_url: str, logdir: Path) -> None:
        tag = uuid.uuid4().hex[:8]
        self.prefix, self.queue = f"bench{tag}", f"bench{tag}"
        self.redis_url = redis_url
        self.logdir = logdir
        self.procs: list[subprocess.Popen[bytes]] = []

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("COPYDESK_")}
        env.update({"COPYDESK_REDIS_URL": self.redis_url,
                    "COPYDESK_WORKER__KEY_PREFIX": self.prefix,
                    "COPYDESK_WORKER__QUEUE": self.queue})
        return env

    def settings(self) -> Settings:
        settings = Settings(redis_url=self.redis_url)
        settings.worker.key_prefix = self.prefix
        settings.worker.queue = self.queue
        return settings

    def start(self, count: int) -> None:
        import redis

        r = redis.Redis.from_url(self.redis_url)
        nodes = []
        for i in range(count):
            node = f"bench{i}@{self.prefix}"
            log = open(self.logdir / f"{self.prefix}-{i}.log", "wb")  # noqa: SIM115
            self.procs.append(subprocess.Popen(
                [COPYDESK, "worker", "-c", "1", "-n", node, "-l", "WARNING",
                 "--worker-log-format", "json", "--without-mingle", "--without-gossip"],
                env=self.env(), stdout=log, stderr=subprocess.STDOUT))
            nodes.append(node)
        deadline = time.monotonic() + 300
        while not all(r.exists(f"{self.prefix}:worker:{n}") for n in nodes):
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.procs):
                raise RuntimeError(f"workers did not start; see {self.logdir}")
            time.sleep(0.2)

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


def through_redis(articles: list[dict[str, Any]], n_workers: int, redis_url: str,
                  logdir: Path, redis_pid: int | None) -> tuple[float, float]:
    """(b): seconds from the first submit to the last result with n single-process workers,
    and the CPU seconds the workers (main and pool processes) and Redis used meanwhile."""
    workers = Workers(redis_url, logdir)
    try:
        workers.start(n_workers)
        client = Client(workers.settings())
        warm = client.submit(dict(articles[0], id="warm-" + articles[0]["id"]))
        client.wait(warm.id or "", timeout=120)  # the first task of each process is warm-up
        if n_workers > 1:
            more = client.submit_many([dict(a, id=f"warm{i}-{a['id']}")
                                       for i, a in enumerate(articles[1:1 + 2 * n_workers])])
            client.wait([m.id or "" for m in more], timeout=120)
        mains = [p.pid for p in workers.procs]
        pool = [pid for main in mains for pid in tree(main) if pid != main]
        server = [redis_pid] if redis_pid else []
        pids = mains + pool + server
        before = [cpu_seconds(group) for group in (mains, pool, server)]
        cpu0 = sum(before)
        started = time.perf_counter()
        results = client.submit_many(articles)
        ids = [r.id or "" for r in results]
        final = client.wait(ids, timeout=3600)
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds(pids) - cpu0
        main_ms, pool_ms, redis_ms = (
            1000 * (cpu_seconds(group) - b) / len(articles)
            for group, b in zip((mains, pool, server), before, strict=True))
        print(f"    CPU per article: pool processes {pool_ms:.1f} ms, worker main processes "
              f"{main_ms:.1f} ms, redis-server {redis_ms:.1f} ms")
        bad = [i for i, s in final.items() if s is None or s.status != "done"]
        if bad:
            raise RuntimeError(f"{len(bad)} articles did not finish: {bad[:3]}")
        shares = Counter(s.worker for s in final.values() if s)
        print(f"    articles per worker: {dict(sorted(shares.items()))}")
        return elapsed, cpu
    finally:
        workers.stop()


def latency(articles: list[dict[str, Any]], redis_url: str, logdir: Path) -> list[float]:
    """Enqueue-to-result seconds, one article at a time, one single-process worker."""
    workers = Workers(redis_url, logdir)
    try:
        workers.start(1)
        client = Client(workers.settings())
        client.wait(client.submit(dict(articles[0], id="warm")).id or "", timeout=120)
        samples = []
        for data in articles:
            t0 = time.perf_counter()
            sub = client.submit(data)
            client.wait(sub.id or "", timeout=120)
            samples.append(time.perf_counter() - t0)
        return samples
    finally:
        workers.stop()


def http_submits(articles: list[dict[str, Any]], redis_url: str, logdir: Path,
                 batch: int = 100) -> dict[str, float]:
    """Submits/second through ``copydesk serve`` against direct ``Client`` submits, same run.

    No worker runs: this measures the front door only (validation, the Redis script, HTTP).
    Each mode submits the same articles under ids of its own, one per call and in batches.
    """
    import httpx

    workers = Workers(redis_url, logdir)  # only for its queue/prefix and environment
    port = free_port()
    log = open(logdir / f"gateway-{port}.log", "wb")  # noqa: SIM115
    gateway = subprocess.Popen([COPYDESK, "serve", "--port", str(port), "--no-access-log"],
                               env=workers.env(), stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline or gateway.poll() is not None:
                    raise RuntimeError(f"copydesk serve did not start; see {logdir}") from None
                time.sleep(0.1)
        client = Client(workers.settings())

        def tagged(mode: str) -> list[dict[str, Any]]:
            return [dict(a, id=f"{mode}-{a['id']}") for a in articles]

        def timed(run: Any, mode: str) -> float:
            items = tagged(mode)
            started = time.perf_counter()
            run(items)
            return len(items) / (time.perf_counter() - started)

        rates = {}
        rates["client, one per call"] = timed(lambda xs: [client.submit(x) for x in xs], "c1")
        rates[f"client, batches of {batch}"] = timed(
            lambda xs: [client.submit_many(xs[i:i + batch]) for i in range(0, len(xs), batch)],
            "cb")
        with httpx.Client(base_url=url, timeout=60) as http:
            def post_each(xs: list[dict[str, Any]]) -> None:
                for x in xs:
                    if http.post("/v1/articles", json=x).status_code != 202:
                        raise RuntimeError("the gateway refused an article")

            def post_batches(xs: list[dict[str, Any]]) -> None:
                for i in range(0, len(xs), batch):
                    if http.post("/v1/articles", json=xs[i:i + batch]).status_code != 202:
                        raise RuntimeError("the gateway refused a batch")

            rates["HTTP gateway, one per request"] = timed(post_each, "h1")
            rates[f"HTTP gateway, batches of {batch}"] = timed(post_batches, "hb")
        return rates
    finally:
        gateway.terminate()
        gateway.wait(timeout=15)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=200, help="articles in the slice")
    parser.add_argument("--latency-samples", type=int, default=30)
    parser.add_argument("--redis-url", default=None, help="use this Redis (default: start one)")
    parser.add_argument("--http", action="store_true",
                        help="also time submits through the HTTP gateway vs direct client")
    parser.add_argument("--only-http", action="store_true",
                        help="only the HTTP-gateway vs client submit comparison")
    args = parser.parse_args()
    configure_logging("console", "WARNING")

    articles = load_articles(args.n)
    tmp = Path(tempfile.mkdtemp(prefix="copydesk-bench-"))
    redis_proc = None
    redis_url = args.redis_url
    if redis_url is None:
        redis_proc, redis_url = start_redis(tmp)
    try:
        if args.http or args.only_http:
            print(f"submits/second, {len(articles)} articles (no worker; the front door only):")
            for mode, rate in http_submits(articles, redis_url, tmp).items():
                print(f"  {mode:32s} {rate:8.1f} articles/s")
            if args.only_http:
                return
        stages = Pipeline.build(Settings()).names
        print(f"{len(articles)} articles from {CORPUS.name}; stages: {' → '.join(stages)}")
        print(f"cpus: {os.cpu_count()}; logs: {tmp}")
        n = len(articles)
        a_time, per_article, a_cpu = in_process(articles)
        a_rate = n / a_time
        print(f"(a) in-process, 1 process:     {a_rate:7.2f} articles/s  ({a_time:.1f}s wall, "
              f"{1000 * a_cpu / n:.0f} ms CPU/article, {a_cpu / a_time:.2f} CPUs obtained)")
        pid = redis_proc.pid if redis_proc else None
        b1_time, b1_cpu = through_redis(articles, 1, redis_url, tmp, pid)
        b1_rate = n / b1_time
        print(f"(b) through Redis, 1 worker:   {b1_rate:7.2f} articles/s  ({b1_time:.1f}s wall, "
              f"{1000 * b1_cpu / n:.0f} ms CPU/article incl. Redis, "
              f"{b1_cpu / b1_time:.2f} CPUs obtained)")
        b2_time, b2_cpu = through_redis(articles, 2, redis_url, tmp, pid)
        b2_rate = n / b2_time
        print(f"(b) through Redis, 2 workers:  {b2_rate:7.2f} articles/s  ({b2_time:.1f}s wall, "
              f"{1000 * b2_cpu / n:.0f} ms CPU/article incl. Redis, "
              f"{b2_cpu / b2_time:.2f} CPUs obtained)")
        print(f"ratio (b, 1 worker) / (a):     {b1_rate / a_rate:7.3f} by wall time; "
              f"CPU per article {b1_cpu / a_cpu:.3f}× in-process "
              f"(queue overhead {100 * (b1_cpu / a_cpu - 1):+.1f}% CPU)")
        print(f"scaling efficiency 1 → 2:      {b2_rate / (2 * b1_rate):7.3f}  "
              f"(load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
        lat = latency(load_articles(args.latency_samples, offset=args.n), redis_url, tmp)
        print(f"latency enqueue→result (low load, n={len(lat)}): "
              f"p50 {1000 * statistics.median(lat):.0f} ms, p95 {1000 * pct(lat, 0.95):.0f} ms; "
              f"in-process per article p50 {1000 * statistics.median(per_article):.0f} ms, "
              f"p95 {1000 * pct(per_article, 0.95):.0f} ms")
    finally:
        if redis_proc is not None:
            redis_proc.terminate()
            redis_proc.wait(timeout=10)


if __name__ == "__main__":
    main()
