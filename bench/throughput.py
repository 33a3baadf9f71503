"""Throughput and footprint: in-process, -j 2, and through Redis by 1 and 2 workers; latency,
bytes per stored article and memory per worker process, all in one run.

    .venv/bin/python bench/throughput.py [--n 200] [--latency-samples 30] [--store-n 500]
                                         [--mem-n 500] [--rates-only] [--paired ROUNDS]

``--paired ROUNDS`` runs only in-process and one default worker in turn, ROUNDS times, and
prints the median of the paired ratios with a 95% interval of it (the figure to quote: the
machine's speed drifts). Each round starts a new worker and forks a new in-process run, both
cold; with ``--long-lived`` one worker and one in-process process serve every round (both
warm, each pair seconds apart, the shared state emptied before each run), which drifts
less.

Takes a slice of ../shared/corpus/bbc-news-2005.jsonl and processes it with the default
pipeline (every installed stage), printing articles/second and, as ratios in the same run:

* in-process, one process (as ``copydesk process``) against ``-j 2`` (forked after loading);
* through Redis: one ``copydesk worker`` with one pool process, without batching
  (``worker.batch_size`` 1) and with the default settings (batches of 8), then two such
  workers, each against the in-process rate;
* enqueue-to-result latency (submit -> ``Client.wait``) p50/p95 at low load, one article at a
  time, before and after batching, next to the in-process time per article;
* bytes per stored article (``--store-n`` Documents written through the store's own scripts)
  with plain JSON and with zstd: ``MEMORY USAGE`` exact and as Redis estimates by default,
  the stream and index share, and the growth of ``used_memory``, against the Document JSON;
* RSS and PSS (/proc/PID/smaps_rollup) of each process of a worker with two pool processes
  after the slice, with and without preloading before the fork, against spaCy alone.

With ``--http`` (or ``--only-http``) it first times submits/second through ``copydesk serve``
against direct ``Client`` submits. It prints ``uptime`` at the start and the end (the machine
is shared). It starts its own ``redis-server`` on a free port unless ``--redis-url`` is given,
and its own workers; model loading is not timed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from copydesk import Pipeline, Settings  # noqa: E402
from copydesk.document import parse_article  # noqa: E402
from copydesk.logs import configure_logging  # noqa: E402
from copydesk.workers.queue.client import Client  # noqa: E402

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


def warm_up(count: int = 1, tag: str = "warm") -> list[dict[str, Any]]:
    """Articles for warming up, the same for every mode: from the corpus's end, outside any
    slice timed here, so no timed article repeats one seen in the warm-up (a repeat is a
    retry in one mode and a duplicate in another, at very different costs)."""
    with CORPUS.open(encoding="utf-8") as lines:
        total = sum(1 for _ in lines)
    rows = load_articles(count, offset=total - count)
    return [dict(row, id=f"{tag}{i}-{row['id']}") for i, row in enumerate(rows)]


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
    pipeline.process(parse_article(warm_up()[0]))  # warm caches, as a worker's first task
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

    def __init__(self, redis_url: str, logdir: Path, concurrency: int = 1,
                 **extra_env: str) -> None:
        tag = uuid.uuid4().hex[:8]
        self.prefix, self.queue = f"bench{tag}", f"bench{tag}"
        self.redis_url = redis_url
        self.logdir = logdir
        self.concurrency = concurrency
        self.extra_env = extra_env
        self.procs: list[subprocess.Popen[bytes]] = []

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("COPYDESK_")}
        env.update({"COPYDESK_REDIS_URL": self.redis_url,
                    "COPYDESK_WORKER__KEY_PREFIX": self.prefix,
                    "COPYDESK_WORKER__QUEUE": self.queue})
        env.update(self.extra_env)
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
                [COPYDESK, "worker", "-c", str(self.concurrency), "-n", node, "-l", "WARNING",
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
                  logdir: Path, redis_pid: int | None, concurrency: int = 1,
                  memory: dict[str, Any] | None = None,
                  **extra_env: str) -> tuple[float, float]:
    """(b): seconds from the first submit to the last result with n workers of
    ``concurrency`` pool processes each, and the CPU seconds the workers (main and pool
    processes) and Redis used meanwhile. With ``memory``, fills it with each worker
    process's RSS and PSS (kB) after the run."""
    workers = Workers(redis_url, logdir, concurrency, **extra_env)
    try:
        workers.start(n_workers)
        client = Client(workers.settings())
        warm = client.submit(warm_up()[0])
        client.wait(warm.id or "", timeout=120)  # the first task of each process is warm-up
        if n_workers > 1:
            more = client.submit_many(warm_up(2 * n_workers, "more"))
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
        if memory is not None:
            memory["main"] = [rss_pss(pid) for pid in mains]
            memory["pool"] = [rss_pss(pid) for pid in pool]
        return elapsed, cpu
    finally:
        workers.stop()


def latency(articles: list[dict[str, Any]], redis_url: str, logdir: Path,
            **extra_env: str) -> list[float]:
    """Enqueue-to-result seconds, one article at a time, one single-process worker."""
    workers = Workers(redis_url, logdir, 1, **extra_env)
    try:
        workers.start(1)
        client = Client(workers.settings())
        client.wait(client.submit(warm_up()[0]).id or "", timeout=120)
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


def rss_pss(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of a process in kB, from /proc/PID/smaps_rollup (PSS counts a page shared
    by k processes as 1/k: the model pages a fork shares are counted once in the sum)."""
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        parts = line.split()
        if parts and parts[0] in ("Rss:", "Pss:"):
            values[parts[0]] = int(parts[1])
    return values["Rss:"], values["Pss:"]


SPACY_ALONE = """
import json, sys, time
from copydesk.nlp import load_model
from copydesk.settings import Settings
nlp = load_model(Settings().spacy.model)
texts = [json.loads(line)["text"] for line in sys.stdin]
for _ in nlp.pipe(texts, batch_size=32):
    pass
print("ready", flush=True)
time.sleep(60)
"""


def spacy_alone(articles: list[dict[str, Any]]) -> tuple[int, int]:
    """(RSS, PSS) kB of a process that only loads the spaCy model and parses the articles."""
    proc = subprocess.Popen([sys.executable, "-c", SPACY_ALONE], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write("".join(json.dumps({"text": a["text"]}) + "\n" for a in articles))
        proc.stdin.close()
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the spaCy-only process failed")
        return rss_pss(proc.pid)
    finally:
        proc.kill()
        proc.wait()


def in_process_batched(articles: list[dict[str, Any]], jobs: int) -> tuple[float, list[Any]]:
    """In-process as ``copydesk process -j JOBS`` runs (batches; forked processes when
    JOBS > 1, models loaded before the fork, not timed): seconds, and the Documents."""
    from copydesk.parallel import process_parallel

    pipeline = Pipeline.build(Settings())
    pipeline.setup()
    pipeline.process(parse_article(warm_up()[0]))  # warm caches
    parsed = [parse_article(a) for a in articles]
    started = time.perf_counter()
    if jobs > 1:
        docs = list(process_parallel(pipeline, parsed, jobs))
    else:
        docs = list(pipeline.iter_process(parsed))
    return time.perf_counter() - started, docs


def stored_bytes(articles: list[dict[str, Any]], docs: list[Any], redis_url: str,
                 compression: str) -> dict[str, float]:
    """Bytes per article in Redis once done, storing ``docs`` through the store's own scripts
    (submit, claim, finish) as a worker would: MEMORY USAGE of the record exactly (SAMPLES 0)
    and as Redis estimates by default (SAMPLES 5), the stream and done-index share, and the
    growth of used_memory (what Redis really allocated, allocator overhead included)."""
    from copydesk.workers.queue.store import Store

    settings = Settings(redis_url=redis_url)
    settings.worker.key_prefix = settings.worker.queue = f"mem{uuid.uuid4().hex[:8]}"
    settings.worker.compression = compression  # type: ignore[assignment]
    store = Store.from_settings(settings)
    r = store.r

    def store_all(pairs: list[tuple[dict[str, Any], Any]], tag: str = "") -> None:
        for data, doc in pairs:
            task_id, article_id = str(uuid.uuid4()), tag + data["id"]
            store.submit(article_id, data, task_id)
            r.rpop(store.keys.queue)  # the message: what a worker takes off the queue
            store.claim(article_id, task_id, "bench@mem", "bench@mem:1", data)
            store.finish(article_id, task_id, "done", doc.to_json(), None, "bench@mem")

    pairs = list(zip(articles, docs, strict=True))
    store_all(pairs[:20], "warm-")  # scripts cached, stream and index created: not counted
    r.execute_command("MEMORY", "PURGE")
    base = int(r.info("memory")["used_memory"])
    store_all(pairs)
    grown = int(r.info("memory")["used_memory"]) - base
    n = len(articles)
    keys = [store.keys.article(a["id"]) for a in articles]
    exact = sum(r.memory_usage(k, samples=0) for k in keys) / n
    sampled = [r.memory_usage(k) for k in keys]
    document = sum(len(d.to_json().encode()) for d in docs) / n
    stored_doc = sum(r.hstrlen(k, "document") for k in keys) / n
    out = {
        "document_json": document,
        "stored_document": stored_doc,
        "record_exact": exact,
        "record_default_estimate": sum(sampled) / n,
        "record_default_estimate_max": max(sampled),
        "stream": (r.memory_usage(store.keys.events, samples=0) or 0) / n,
        "index": (r.memory_usage(store.keys.index("done"), samples=0) or 0) / n,
        "used_memory_growth": grown / n,
        "fields": r.hlen(keys[0]),
        "encoding": r.object("encoding", keys[0]),
    }
    r.delete(*keys, *(store.keys.article("warm-" + a["id"]) for a in articles[:20]),
             store.keys.events, store.keys.index("done"))
    return out


#: The worker settings of the batched runs.
#: the worker's default settings (batches of ``worker.batch_size``, 8) and batching off
DEFAULT: dict[str, str] = {}
UNBATCHED = {"COPYDESK_WORKER__BATCH_SIZE": "1"}


def in_process_forked(pipeline: Pipeline, articles: list[dict[str, Any]]) -> float:
    """Seconds for ``articles`` in-process (batches, as ``copydesk process``) in a process
    forked from one that only loaded the models: as cold as a new worker's pool process,
    whose first texts cost more than texts spaCy has seen (its vocabulary grows)."""
    read, write = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(read)
        pipeline.process(parse_article(warm_up()[0]))  # warm-up, as the worker's first task
        parsed = [parse_article(a) for a in articles]
        started = time.perf_counter()
        for _ in pipeline.iter_process(parsed):
            pass
        os.write(write, repr(time.perf_counter() - started).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as answer:
        elapsed = float(answer.read())
    os.waitpid(child, 0)
    return elapsed


def paired_rates(articles: list[dict[str, Any]], rounds: int, redis_url: str, logdir: Path,
                 redis_pid: int | None) -> list[tuple[float, float]]:
    """In-process and one default worker in turn, ``rounds`` times (the order alternating),
    so each ratio pairs two runs made a minute apart: this shared machine's speed drifts
    by 20% over minutes, more than the difference measured. Both start equally cold: a new
    worker, and an in-process run forked from a process that only loaded the models.
    Articles/second of each pair."""
    pipeline = Pipeline.build(Settings())
    pipeline.setup()  # loaded here once, as a worker preloads; no text runs in this process
    pairs = []
    for r in range(rounds):
        tagged = [dict(a, id=f"r{r}-{a['id']}") for a in articles]
        runs: dict[str, float] = {}
        for mode in in_turn(r):
            if mode == "in-process":
                runs[mode] = len(tagged) / in_process_forked(pipeline, tagged)
            else:
                runs[mode] = len(tagged) / through_redis(tagged, 1, redis_url, logdir,
                                                         redis_pid, **DEFAULT)[0]
        print(f"round {r + 1}: in-process {runs['in-process']:6.2f}, worker (default) "
              f"{runs['worker']:6.2f} articles/s: {runs['worker'] / runs['in-process']:.3f}",
              flush=True)
        pairs.append((runs["in-process"], runs["worker"]))
    return pairs


class LongLivedInProcess:
    """An in-process pipeline in a process of its own, forked once from one that only loaded
    the models, that runs a slice whenever asked (``run``), each time with a fresh shared
    state: warm as a long-running worker's pool process is, for the same texts."""

    def __init__(self, pipeline: Pipeline) -> None:
        child_in, self._to_child = os.pipe()  # (read end, write end)
        self._from_child, child_out = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(self._to_child)
            os.close(self._from_child)
            self._serve(pipeline, os.fdopen(child_in), os.fdopen(child_out, "w"))
        os.close(child_in)
        os.close(child_out)
        self._ask = os.fdopen(self._to_child, "w")
        self._answer = os.fdopen(self._from_child)

    @staticmethod
    def _serve(pipeline: Pipeline, commands: Any, answers: Any) -> None:
        from copydesk.state import SharedState

        pipeline.process(parse_article(warm_up()[0]))  # warm-up, as the worker's first task
        for line in commands:
            asked = json.loads(line)
            if asked["fresh"]:  # nothing remembered from earlier runs
                pipeline.services.state = SharedState()
            parsed = [parse_article(a) for a in asked["articles"]]
            started = time.perf_counter()
            for _ in pipeline.iter_process(parsed):
                pass
            answers.write(repr(time.perf_counter() - started) + "\n")
            answers.flush()
        os._exit(0)

    def run(self, articles: list[dict[str, Any]], fresh: bool = True) -> float:
        """Seconds for ``articles``; ``fresh``: with an empty shared state (else with what
        the runs before remembered, as a worker's state keeps it)."""
        self._ask.write(json.dumps({"articles": articles, "fresh": fresh}) + "\n")
        self._ask.flush()
        return float(self._answer.readline())

    def close(self) -> None:
        self._ask.close()
        os.waitpid(self.pid, 0)


@contextlib.contextmanager
def long_lived_pair(redis_url: str, logdir: Path
                    ) -> Iterator[tuple[LongLivedInProcess, Workers, Client]]:
    """One in-process process and one default worker (with a client of its queue), each
    warmed up with the same article, stopped on leaving."""
    pipeline = Pipeline.build(Settings())
    pipeline.setup()
    local = LongLivedInProcess(pipeline)
    workers = Workers(redis_url, logdir, 1, **DEFAULT)
    try:
        workers.start(1)
        client = Client(workers.settings())
        client.wait(client.submit(warm_up()[0]).id or "", timeout=120)
        yield local, workers, client
    finally:
        workers.stop()
        local.close()


def in_turn(i: int) -> tuple[str, str]:
    """The order of the two modes in pair ``i``: alternating, so drift favours neither."""
    return ("in-process", "worker") if i % 2 == 0 else ("worker", "in-process")


def paired_rates_long_lived(articles: list[dict[str, Any]], rounds: int, redis_url: str,
                            logdir: Path, redis_pid: int | None) -> list[tuple[float, float]]:
    """As ``paired_rates``, with one worker and one in-process process kept for all rounds:
    each pair is two runs seconds apart (no worker start between them), both warm from the
    rounds before, both with a fresh shared state (the worker's ``P:state:*`` keys are
    deleted before each of its runs). Articles/second of each pair."""
    import redis

    r = redis.Redis.from_url(redis_url)
    pairs = []
    with long_lived_pair(redis_url, logdir) as (local, workers, client):
        for n in range(rounds):
            tagged = [dict(a, id=f"r{n}-{a['id']}") for a in articles]
            runs: dict[str, float] = {}
            for mode in in_turn(n):
                if mode == "in-process":
                    runs[mode] = len(tagged) / local.run(tagged)
                    continue
                stale = list(r.scan_iter(match=f"{workers.prefix}:state:*", count=1000))
                if stale:
                    r.delete(*stale)
                started = time.perf_counter()
                ids = [s.id or "" for s in client.submit_many(tagged)]
                final = client.wait(ids, timeout=3600)
                runs[mode] = len(tagged) / (time.perf_counter() - started)
                if any(s is None or s.status != "done" for s in final.values()):
                    raise RuntimeError("an article did not finish")
            print(f"round {n + 1}: in-process {runs['in-process']:6.2f}, worker (default) "
                  f"{runs['worker']:6.2f} articles/s: {runs['worker'] / runs['in-process']:.3f}",
                  flush=True)
            pairs.append((runs["in-process"], runs["worker"]))
    return pairs


def paired_latency(articles: list[dict[str, Any]], redis_url: str, logdir: Path
                   ) -> list[tuple[float, float]]:
    """Per article, in turn: seconds in-process (the pipeline on it alone, in a
    long-lived process) and enqueue -> result through one idle default worker. Both keep
    their shared state from one article to the next."""
    pairs = []
    with long_lived_pair(redis_url, logdir) as (local, _, client):
        for i, data in enumerate(articles):
            times: dict[str, float] = {}
            for mode in in_turn(i):
                if mode == "in-process":
                    times[mode] = local.run([data], fresh=False)
                    continue
                started = time.perf_counter()
                client.wait(client.submit(data).id or "", timeout=120)
                times[mode] = time.perf_counter() - started
            pairs.append((times["in-process"], times["worker"]))
    return pairs


def median_interval(values: list[float]) -> tuple[float, float, float]:
    """The median of ``values`` and a distribution-free interval around it (order statistics
    of a binomial(n, 1/2) sign test) covering the true median with at least 95% confidence;
    with fewer than six values the interval is their whole range."""
    ordered = sorted(values)
    n = len(ordered)
    k = 0  # the largest k with P(Binomial(n, 1/2) < k + 1) <= 0.025
    while sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n <= 0.025:
        k += 1
    return statistics.median(ordered), ordered[max(k - 1, 0)], ordered[min(n - k, n - 1)]


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=200, help="articles in the slice")
    parser.add_argument("--latency-samples", type=int, default=30)
    parser.add_argument("--mem-n", type=int, default=500,
                        help="articles a worker processes before its memory is read")
    parser.add_argument("--store-n", type=int, default=500,
                        help="articles stored for the bytes-per-article figures")
    parser.add_argument("--paired", type=int, default=0, metavar="ROUNDS",
                        help="only in-process against one default worker, ROUNDS times in "
                        "turn, and the median of the paired ratios")
    parser.add_argument("--long-lived", action="store_true",
                        help="with --paired: keep one worker and one in-process process for "
                        "all rounds (warm, pairs seconds apart) instead of new ones each round")
    parser.add_argument("--paired-latency", type=int, default=0, metavar="N",
                        help="only latency: N articles one at a time, each in-process and "
                        "through one idle default worker in turn; the median ratio")
    parser.add_argument("--rates-only", action="store_true",
                        help="stop after the rates and latencies (no bytes or memory figures)")
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
        if args.paired_latency:
            print(f"{args.paired_latency} articles one at a time, in-process against one idle "
                  f"worker with the default settings, in turn; uptime {uptime()}")
            pairs = paired_latency(load_articles(args.paired_latency, offset=args.n),
                                   redis_url, tmp)
            median, low, high = median_interval([w / a for a, w in pairs])
            print(f"in-process p50 {1000 * statistics.median(a for a, _ in pairs):.0f} ms, "
                  f"worker p50 {1000 * statistics.median(w for _, w in pairs):.0f} ms; "
                  f"worker / in-process per article: median {median:.3f} (95% interval "
                  f"{low:.3f}-{high:.3f}; aim <= 1.1); uptime {uptime()}")
            return
        if args.paired:
            kind = ("one long-lived worker and in-process process, warm"
                    if args.long_lived else "a new worker and in-process fork each round, cold")
            print(f"{len(articles)} articles, in-process against one worker with the default "
                  f"settings, {args.paired} rounds ({kind}); uptime {uptime()}")
            pid = redis_proc.pid if redis_proc else None
            pairs = (paired_rates_long_lived if args.long_lived else paired_rates)(
                articles, args.paired, redis_url, tmp, pid)
            median, low, high = median_interval([w / a for a, w in pairs])
            ratios = sorted(w / a for a, w in pairs)
            print(f"worker / in-process: median {median:.3f} (95% interval of the median "
                  f"{low:.3f}-{high:.3f}; min {ratios[0]:.3f}, max {ratios[-1]:.3f}; aim >= "
                  f"0.95); uptime {uptime()}")
            return
        stages = Pipeline.build(Settings()).names
        print(f"{len(articles)} articles from {CORPUS.name}; stages: {' → '.join(stages)}")
        print(f"cpus: {os.cpu_count()}; logs: {tmp}")
        print(f"uptime at start: {uptime()}")
        n = len(articles)
        pid = redis_proc.pid if redis_proc else None

        print("-- in-process (copydesk process) --")
        a_time, docs = in_process_batched(articles, 1)
        a_rate = n / a_time
        print(f"(a)  in-process, 1 process:          {a_rate:7.2f} articles/s ({a_time:.1f}s)")
        j_time, _ = in_process_batched(articles, 2)
        j_rate = n / j_time
        print(f"(a2) in-process, -j 2:               {j_rate:7.2f} articles/s ({j_time:.1f}s)")
        print(f"ratio -j 2 / -j 1:                   {j_rate / a_rate:7.3f}  (aim >= 1.7)")

        print("-- through Redis (copydesk worker, 1 pool process each) --")
        u_time, u_cpu = through_redis(articles, 1, redis_url, tmp, pid, **UNBATCHED)
        u_rate = n / u_time
        print(f"(b1-) 1 worker, batch_size 1:         {u_rate:7.2f} articles/s ({u_time:.1f}s, "
              f"{1000 * u_cpu / n:.0f} ms CPU/article incl. Redis)")
        b1_time, b1_cpu = through_redis(articles, 1, redis_url, tmp, pid, **DEFAULT)
        b1_rate = n / b1_time
        print(f"(b1) 1 worker, default settings:    {b1_rate:7.2f} articles/s ({b1_time:.1f}s, "
              f"{1000 * b1_cpu / n:.0f} ms CPU/article incl. Redis)")
        b2_time, b2_cpu = through_redis(articles, 2, redis_url, tmp, pid, **DEFAULT)
        b2_rate = n / b2_time
        print(f"(b2) 2 workers, default settings:   {b2_rate:7.2f} articles/s ({b2_time:.1f}s, "
              f"{1000 * b2_cpu / n:.0f} ms CPU/article incl. Redis)")
        print(f"ratio (b1-) / (a):                   {u_rate / a_rate:7.3f}  (batch_size 1)")
        print(f"ratio (b1) / (a):                    {b1_rate / a_rate:7.3f}  (aim >= 0.95: the default path)")
        print(f"ratio (b2) / (a):                    {b2_rate / a_rate:7.3f}")
        print(f"ratio (b2) / (a2):                   {b2_rate / j_rate:7.3f}")
        print(f"scaling efficiency 1 -> 2 workers:   {b2_rate / (2 * b1_rate):7.3f}  "
              f"(load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")

        print("-- latency enqueue -> result at low load (one article at a time) --")
        lat_articles = load_articles(args.latency_samples, offset=args.n)
        _, per_article, _ = in_process(lat_articles)
        print(f"in-process per article:              p50 {1000 * statistics.median(per_article):5.0f} ms"
              f", p95 {1000 * pct(per_article, 0.95):5.0f} ms")
        for label, env in (("batch_size 1", UNBATCHED),
                           ("default settings (batch_size 8)", DEFAULT)):
            lat = latency(lat_articles, redis_url, tmp, **env)
            print(f"{label:36s} p50 {1000 * statistics.median(lat):5.0f} ms, "
                  f"p95 {1000 * pct(lat, 0.95):5.0f} ms (n={len(lat)}; p50 "
                  f"{statistics.median(lat) / statistics.median(per_article):.2f}x in-process)")
        if args.rates_only:
            return

        print(f"-- bytes per stored article (done), {args.store_n} articles --")
        store_articles = load_articles(args.store_n)
        store_docs = docs[:args.store_n]
        if len(store_docs) < len(store_articles):
            _, more = in_process_batched(store_articles[len(store_docs):], 2)
            store_docs += more
        before = stored_bytes(store_articles, store_docs, redis_url, "none")
        after = stored_bytes(store_articles, store_docs, redis_url, "zstd")
        doc_json = before["document_json"]
        print(f"Document JSON:                       {doc_json:8.0f} B (record: "
              f"{before['fields']} fields, {before['encoding']} encoding)")
        for label, m in (("before (plain JSON)", before), ("after (zstd)", after)):
            print(f"{label}:")
            print(f"  document field                     {m['stored_document']:8.0f} B "
                  f"({m['stored_document'] / doc_json:.3f}x)")
            print(f"  MEMORY USAGE SAMPLES 0 (exact)     {m['record_exact']:8.0f} B "
                  f"({m['record_exact'] / doc_json:.3f}x)")
            print(f"  MEMORY USAGE default (SAMPLES 5)   {m['record_default_estimate']:8.0f} B avg, "
                  f"{m['record_default_estimate_max']:.0f} B max (an estimate from 5 fields)")
            print(f"  stream entries + done index        {m['stream'] + m['index']:8.0f} B")
            print(f"  used_memory growth per article     {m['used_memory_growth']:8.0f} B "
                  f"({m['used_memory_growth'] / doc_json:.3f}x)  (aim after <= 0.35x)")
        print(f"ratio stored after / before (used_memory): "
              f"{after['used_memory_growth'] / before['used_memory_growth']:.3f}")

        mem_articles = load_articles(args.mem_n)
        print(f"-- memory per worker process after {len(mem_articles)} articles "
              "(1 worker, 2 pool processes) --")
        alone = spacy_alone(mem_articles)
        print(f"spaCy alone (load + parse them):     RSS {alone[0] / 1024:6.0f} MB, "
              f"PSS {alone[1] / 1024:6.0f} MB")
        for label, preload in (("preload before fork (default)", "true"),
                               ("no preload (each process loads)", "false")):
            mem: dict[str, Any] = {}
            through_redis(mem_articles, 1, redis_url, tmp, pid, concurrency=2, memory=mem,
                          COPYDESK_WORKER__PRELOAD=preload)
            print(f"{label}:")
            for role in ("main", "pool"):
                for rss, pss in mem[role]:
                    print(f"  {role:4s} process: RSS {rss / 1024:6.0f} MB, PSS {pss / 1024:6.0f} MB")
            total_pss = sum(p for role in ("main", "pool") for _, p in mem[role])
            total_rss = sum(r for role in ("main", "pool") for r, _ in mem[role])
            print(f"  whole worker: RSS sum {total_rss / 1024:6.0f} MB, PSS sum "
                  f"{total_pss / 1024:6.0f} MB ({total_pss / alone[1]:.2f}x spaCy alone)")
        print(f"uptime at end: {uptime()}")
    finally:
        if redis_proc is not None:
            redis_proc.terminate()
            redis_proc.wait(timeout=10)


if __name__ == "__main__":
    main()
