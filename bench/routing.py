"""Routing stages to their own queues: what a hop costs, when a routed pool wins, and memory.

All in one run, real ``copydesk worker`` processes on a private ``redis-server``:

(a) the default pipeline unsplit (one worker) vs split in two segments (``cleaning`` routed
    to a queue of its own, one worker per queue): CPU seconds per article, all processes
    counted, as a ratio — the overhead of a hop. The same with ``summary`` routed, whose
    segment parses again (the shared parse is recomputed, not carried), against what
    carrying it as a spaCy ``DocBin`` would cost per article, measured in-process.
(b) the pipeline plus a deliberately slow stage with a big model (``bench/slow_stage.py``):
    two general workers vs one default worker + one worker for the slow stage's queue (one
    process, then four): articles per second and memory.
(c) PSS/RSS of each worker after its articles: general, default-only, routed-only.

    python bench/routing.py [--n 40] [--slow-seconds 0.2] [--model-mb 300]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from copydesk.settings import Settings  # noqa: E402
from copydesk.workers.queue.client import Client  # noqa: E402

from bench.throughput import (  # noqa: E402
    COPYDESK,
    cpu_seconds,
    load_articles,
    rss_pss,
    start_redis,
    tree,
    uptime,
)

STAGES = "cleaning,entities,numbers,quotes,summary"


def slow_plugin_path(root: Path) -> Path:
    """A directory that makes ``bench/slow_stage.py`` an installed plugin on PYTHONPATH."""
    site = root / "site"
    site.mkdir()
    shutil.copy(ROOT / "bench" / "slow_stage.py", site / "copydesk_slow.py")
    dist = site / "copydesk_slow-0.1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: copydesk-slow\nVersion: 0.1.0\n")
    (dist / "entry_points.txt").write_text("[copydesk]\nslow = copydesk_slow\n")
    return site


class Deployment:
    """Workers on one key prefix; ``routes`` and per-worker queues as in production."""

    def __init__(self, redis_url: str, logdir: Path, env: dict[str, str]) -> None:
        tag = uuid.uuid4().hex[:8]
        self.prefix, self.queue = f"rt{tag}", f"rt{tag}"
        self.redis_url, self.logdir, self.extra = redis_url, logdir, env
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def routed(self, name: str) -> str:
        return f"{self.queue}-{name}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("COPYDESK_")}
        env.update({"COPYDESK_REDIS_URL": self.redis_url,
                    "COPYDESK_WORKER__KEY_PREFIX": self.prefix,
                    "COPYDESK_WORKER__QUEUE": self.queue, **self.extra})
        return env

    def start(self, name: str, concurrency: int, *args: str) -> None:
        import redis

        node = f"{name}@{self.prefix}"
        log = open(self.logdir / f"{self.prefix}-{name}.log", "wb")  # noqa: SIM115
        self.procs[name] = subprocess.Popen(
            [COPYDESK, "worker", "-c", str(concurrency), "-n", node, "-l", "WARNING",
             "--worker-log-format", "json", "--without-mingle", "--without-gossip", *args],
            env=self.env(), stdout=log, stderr=subprocess.STDOUT)
        r = redis.Redis.from_url(self.redis_url)
        deadline = time.monotonic() + 300
        while not r.exists(f"{self.prefix}:worker:{node}"):
            if time.monotonic() > deadline or self.procs[name].poll() is not None:
                raise RuntimeError(f"worker {name} did not start; see {self.logdir}")
            time.sleep(0.2)

    def run(self, articles: list[dict[str, Any]], redis_pid: int) -> dict[str, float]:
        settings = Settings(redis_url=self.redis_url,
                            worker={"key_prefix": self.prefix, "queue": self.queue})
        client = Client(settings)
        pids = [p for proc in self.procs.values() for p in tree(proc.pid)] + [redis_pid]
        cpu0, t0 = cpu_seconds(pids), time.perf_counter()
        client.submit_many(articles)
        final = client.wait([a["id"] for a in articles], timeout=900)
        wall = time.perf_counter() - t0
        cpu = cpu_seconds(pids) - cpu0
        bad = [i for i, s in final.items() if not s or s.status != "done"]
        if bad:
            raise RuntimeError(f"{len(bad)} articles not done, e.g. {bad[0]}")
        return {"wall": wall, "cpu": cpu, "per_s": len(articles) / wall,
                "cpu_per_article": cpu / len(articles)}

    def memory(self) -> dict[str, tuple[int, int]]:
        """(RSS, PSS) kB per worker, all its processes summed."""
        out = {}
        for name, proc in self.procs.items():
            rss = pss = 0
            for pid in tree(proc.pid):
                r, p = rss_pss(pid)
                rss, pss = rss + r, pss + p
            out[name] = (rss, pss)
        return out

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()


def docbin_cost(articles: list[dict[str, Any]]) -> tuple[float, float, float]:
    """Carrying the parse instead: ms to pack + unpack one parse as a DocBin, its bytes, and
    ms to parse it again — per article, in this process."""
    from copydesk.nlp import load_model
    from spacy.tokens import DocBin

    nlp = load_model(Settings().spacy.model)
    texts = [a["text"] for a in articles]
    t0 = time.perf_counter()
    docs = list(nlp.pipe(texts))
    parse = time.perf_counter() - t0
    t0 = time.perf_counter()
    sizes = []
    for doc in docs:
        data = DocBin(docs=[doc], store_user_data=False).to_bytes()
        sizes.append(len(data))
        list(DocBin().from_bytes(data).get_docs(nlp.vocab))
    carry = time.perf_counter() - t0
    n = len(docs)
    return carry / n * 1000, sum(sizes) / n, parse / n * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=40, help="corpus articles per run")
    parser.add_argument("--slow-seconds", type=float, default=0.2)
    parser.add_argument("--model-mb", type=int, default=300)
    args = parser.parse_args()
    print(f"load before: {uptime()}")
    tmp = Path(tempfile.mkdtemp(prefix="copydesk-routing-"))
    redis_proc, url = start_redis(tmp)
    site = slow_plugin_path(tmp)
    batches = iter(range(0, 100 * args.n, args.n))

    def articles() -> list[dict[str, Any]]:
        return load_articles(args.n, offset=next(batches))

    base = {"COPYDESK_PIPELINE__STAGES": STAGES}
    try:
        # (a) the overhead of a hop
        results: dict[str, dict[str, float]] = {}
        for label, route in (("unsplit", None), ("cleaning routed", "cleaning"),
                             ("summary routed", "summary")):
            dep = Deployment(url, tmp, dict(base))
            if route:
                dep.extra[f"COPYDESK_PIPELINE__ROUTES__{route.upper()}"] = dep.routed("b")
                dep.start("routed", 1, "--queues", dep.routed("b"))
            dep.start("default", 1)
            dep.run(articles()[:3], redis_proc.pid)  # warm both
            results[label] = dep.run(articles(), redis_proc.pid)
            dep.stop()
        unsplit = results["unsplit"]["cpu_per_article"]
        print(f"\n(a) the overhead of a hop, {args.n} corpus articles, CPU of every process")
        print(f"{'pipeline':<18}{'CPU ms/article':>16}{'vs unsplit':>12}{'articles/s':>12}")
        for label, r in results.items():
            print(f"{label:<18}{r['cpu_per_article'] * 1000:>16.1f}"
                  f"{r['cpu_per_article'] / unsplit:>12.3f}{r['per_s']:>12.1f}")
        carry_ms, carry_bytes, parse_ms = docbin_cost(articles())
        print(f"    carrying the parse instead: DocBin pack+unpack {carry_ms:.1f} ms and "
              f"{carry_bytes / 1024:.1f} KiB per article, vs parsing again {parse_ms:.1f} ms")

        # (b) + (c) a slow stage with a big model
        slow_env = {**base, "COPYDESK_PIPELINE__STAGES": STAGES + ",slow",
                    "COPYDESK_STAGE__SLOW__SECONDS": str(args.slow_seconds),
                    "COPYDESK_STAGE__SLOW__MODEL_MB": str(args.model_mb),
                    "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
        runs: list[tuple[str, dict[str, float], dict[str, tuple[int, int]]]] = []
        for label, routed_c in (("2 general workers", 0), ("default + routed (1 proc)", 1),
                                ("default + routed (4 procs)", 4)):
            dep = Deployment(url, tmp, dict(slow_env))
            if routed_c:
                dep.extra["COPYDESK_PIPELINE__ROUTES__SLOW"] = dep.routed("slow")
                dep.start("routed", routed_c, "--queues", dep.routed("slow"))
                dep.start("default", 1)
            else:
                dep.start("general1", 1)
                dep.start("general2", 1)
            dep.run(articles()[:3], redis_proc.pid)
            result = dep.run(articles(), redis_proc.pid)
            runs.append((label, result, dep.memory()))
            dep.stop()
        print(f"\n(b) pipeline + a slow stage ({args.slow_seconds}s per article, a "
              f"{args.model_mb} MB model), {args.n} articles")
        print(f"{'deployment':<28}{'articles/s':>11}{'vs general':>11}{'PSS MB, all':>13}")
        general = runs[0][1]["per_s"]
        for label, result, memory in runs:
            pss = sum(p for _, p in memory.values()) / 1024
            print(f"{label:<28}{result['per_s']:>11.2f}{result['per_s'] / general:>11.2f}"
                  f"{pss:>13.0f}")
        print("\n(c) memory per worker after its articles (RSS / PSS MB, pool included)")
        for label, _, memory in runs:
            for name, (rss, pss) in memory.items():
                print(f"    {label:<28} {name:<9} {rss / 1024:7.0f} / {pss / 1024:7.0f}")
    finally:
        redis_proc.terminate()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nload after: {uptime()}")


if __name__ == "__main__":
    main()
