"""Cost and quality of the cross-article stages (reuse, stories), in one run.

    python bench/stories.py [--sample 60] [--probe 150] [--sizes 1000,10000]
                            [--redis-articles 1000] [--only rates|redis|workers]

Prints, with the machine load:

1. the pipeline's own rate (every installed stage but the cross-article ones) on corpus
   articles, in articles per second;
2. per cross-article stage, its cost per article when 1,000 and 10,000 articles are
   already stored (in-process state), and what it adds to the pipeline's time per article
   (aim: under 10%; the cost should not grow with what is stored);
3. Redis bytes per article for these stages (a private redis-server; ``MEMORY USAGE`` of
   the ``P:state:*`` keys and ``used_memory``), and that a space stays bounded when the
   articles span more than its window;
4. with 1 and 2 workers sharing one Redis (two processes pulling articles in publication
   order, as queue workers do): B-cubed F1 of the stories stage on the development sets in
   ``../shared/eval/stories`` (when the stage is installed; the partition after following
   every merge the stage made), and how many ``duplicate_of``
   answers of the reuse stage agree between 1 and 2 workers on the corpus.

Stored articles for (2) are made from corpus sentences drawn at random (seeded), so they
are all different texts that share a sentence now and then, as news does.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus" / "bbc-news-2005.jsonl"
EVAL = SHARED / "eval" / "stories"
CROSS = ("reuse", "stories")
START = datetime(2005, 3, 1, 6, 0, tzinfo=UTC)


def corpus() -> list[dict[str, Any]]:
    return [json.loads(line) for line in CORPUS.open(encoding="utf-8")]


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


# -- building pipelines -----------------------------------------------------------------


def installed_stages() -> list[str]:
    from copydesk import Settings
    from copydesk.plugin_manager import build_plugin_manager

    return [e.stage.name for e in build_plugin_manager(Settings()).stages()]


def pipeline(stages: Sequence[str], **settings: Any) -> Any:
    from copydesk import Pipeline, Settings

    built = Pipeline.build(Settings(pipeline={"stages": list(stages)}, **settings))
    built.setup()
    return built


def synthetic(rows: list[dict[str, Any]], n: int, seed: int, start: int = 0
              ) -> Iterator[Any]:
    """``n`` articles of 6-14 corpus sentences drawn at random, a minute apart."""
    from copydesk import Article

    sentences = [s for r in rows for s in re.split(r"(?<=[.!?])\s+", r["text"]) if len(s) > 40]
    rng = random.Random(seed)
    for i in range(start, start + n):
        text = " ".join(rng.sample(sentences, rng.randint(6, 14)))
        yield Article(id=f"syn-{seed}-{i}", title=rng.choice(rows)["title"], text=text,
                      published_at=START + timedelta(minutes=i))


def per_article(run: Any, articles: list[Any], batch: int = 32) -> float:
    """Seconds per article of ``run(batch)`` over ``articles``."""
    started = time.perf_counter()
    for i in range(0, len(articles), batch):
        run(articles[i:i + batch])
    return (time.perf_counter() - started) / max(1, len(articles))


def stage_seconds(docs: Sequence[Any], stage: str) -> float:
    runs = [r.duration_ms for d in docs for r in d.runs if r.stage == stage]
    return sum(runs) / 1000 / max(1, len(docs))


# -- 1 and 2: rates ---------------------------------------------------------------------


def rates(rows: list[dict[str, Any]], sample: int, probe: int, sizes: Sequence[int]) -> None:
    from copydesk import Article

    names = installed_stages()
    cross = [s for s in CROSS if s in names]
    own = [s for s in names if s not in CROSS]
    print(f"\n## Rates ({load()})")
    base = pipeline(own)
    articles = [Article(id=r["id"], title=r["title"], text=r["text"]) for r in rows[:sample]]
    base.process_many(articles[:4])  # warm
    pipe_s = per_article(base.process_many, articles)
    print(f"pipeline without {', '.join(CROSS)} ({', '.join(own)}): "
          f"{1 / pipe_s:.1f} articles/s ({pipe_s * 1000:.1f} ms/article, {sample} articles)",
          flush=True)
    if not cross:
        print("no cross-article stage installed")
        return
    for stage in cross:
        for size in sizes:
            # only the stage itself: what it stores is what it would have stored behind a
            # full pipeline (its run's duration is its own cost either way)
            p = pipeline([stage], detect_language=False)
            filled = time.perf_counter()
            for i in range(0, size, 500):
                p.process_many(list(synthetic(rows, min(500, size - i), seed=7, start=i)))
            filled = time.perf_counter() - filled
            fresh = list(synthetic(rows, probe, seed=7, start=size))
            docs = []
            for i in range(0, len(fresh), 32):
                docs += p.process_many(fresh[i:i + 32])
            cost = stage_seconds(docs, stage)
            print(f"{stage:8s} with {size:>6,} stored: {cost * 1000:6.2f} ms/article "
                  f"({1 / max(cost, 1e-9):7.1f} articles/s), adds {cost / pipe_s:6.1%} to "
                  f"the pipeline's time (filled in {filled:.0f} s)", flush=True)


# -- 3: Redis bytes ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivateRedis:
    """A redis-server on a free loopback port, stopped on exit."""

    def __init__(self) -> None:
        server = shutil.which("redis-server")
        if server is None:
            raise SystemExit("redis-server is not installed")
        self.dir = tempfile.mkdtemp(prefix="bench-stories-")
        self.port = free_port()
        self.proc = subprocess.Popen(
            [server, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"redis://127.0.0.1:{self.port}/0"
        import redis

        client = redis.Redis.from_url(self.url)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise SystemExit("redis-server did not start")

    def __enter__(self) -> PrivateRedis:
        return self

    def __exit__(self, *_: object) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


def redis_state(url: str, prefix: str) -> Any:
    import redis
    from copydesk.state import SharedState
    from copydesk.workers.queue.redis_state import RedisState

    return SharedState(RedisState(redis.Redis.from_url(url, decode_responses=True), prefix))


def family(name: str) -> str:
    """A state key's family: its kind and the first part of its key (``s:b*``, ``v:doc``)."""
    rest = name.split("}:", 1)[1]
    kind, _, key = rest.partition(":")
    head = re.split(r"[:0-9]", key, maxsplit=1)[0] if key else ""
    return f"{kind}:{head}*" if key else kind


def families(client: Any, prefix: str, space: str) -> dict[str, tuple[int, int]]:
    """Keys and ``MEMORY USAGE`` bytes per key family of a space; the space's expiry index
    (one entry per data key) is shared out to the families by their entries."""
    base = f"{prefix}:state:{{{space}}}:"
    found: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    pattern = base.replace("{", "\\{").replace("}", "\\}") + "*"
    for name in client.scan_iter(pattern, count=1000):
        row = found[family(name)]
        row[0] += 1
        row[1] += int(client.memory_usage(name, samples=0) or 0)
    expiry = base + "_expiry"
    if client.exists(expiry):
        entries: dict[str, int] = defaultdict(int)
        for member, _ in client.zscan_iter(expiry, count=1000):
            entries[family(member)] += 1
        total = sum(entries.values())
        size = found.pop("_expiry", [1, 0])[1]
        for fam, count in entries.items():
            found[f"_expiry({fam})"] = [count, round(size * count / total)]
    return {k: (v[0], v[1]) for k, v in found.items()}


def redis_bytes(rows: list[dict[str, Any]], n: int) -> None:
    import redis
    from copydesk import Article

    names = installed_stages()
    cross = [s for s in CROSS if s in names]
    if not cross:
        return
    needs = [s for s in ("cleaning", "entities", "numbers") if s in names]
    print(f"\n## Redis bytes per article ({load()})")
    with PrivateRedis() as server:
        client = redis.Redis.from_url(server.url, decode_responses=True)
        before = int(client.info("memory")["used_memory"])
        p = pipeline([*needs, *cross], detect_language=False)
        p.services.state = redis_state(server.url, "bench")
        articles = [Article(id=r["id"], title=r["title"], text=r["text"],
                            published_at=START + timedelta(minutes=i))
                    for i, r in enumerate(rows[:n])]
        started = time.perf_counter()
        docs = []
        for i in range(0, len(articles), 32):
            docs += p.process_many(articles[i:i + 32])
        took = time.perf_counter() - started
        used = int(client.info("memory")["used_memory"]) - before
        spaces: dict[str, int] = defaultdict(int)
        for key in client.scan_iter("bench:state:*", count=1000):
            space = key.split("{", 1)[1].split("}", 1)[0]
            spaces[space] += int(client.memory_usage(key, samples=0) or 0)
        print(f"{n} corpus articles through {', '.join(cross)} on Redis: "
              f"{used / n:,.0f} bytes/article (used_memory), {client.dbsize():,} keys")
        for space, size in sorted(spaces.items()):
            print(f"  space {space:12s} {size / n:8,.0f} bytes/article (MEMORY USAGE)")
            for family, (count, fsize) in sorted(families(client, "bench", space).items()):
                print(f"    {family:18s} {fsize / n:8,.0f} bytes/article ({count:,} keys)")
        for stage in cross:
            print(f"  {stage} on Redis: {stage_seconds(docs, stage) * 1000:.2f} ms/article "
                  f"(wall {took / n * 1000:.1f} ms/article for the whole run)")

        # bounded: articles over 12 days through a 3-day window
        client.flushall()
        p = pipeline(["reuse"], detect_language=False)
        p.services.state = redis_state(server.url, "bound")
        spread = [Article(id=f"b{i}", text=r["text"], published_at=START + timedelta(
            hours=12 * 24 * i / n)) for i, r in enumerate(rows[:n])]
        sizes = []
        for i in range(0, n, 50):
            p.process_many(spread[i:i + 50])
            sizes.append(p.services.state.space("reuse").size())
        print(f"bounded: {n} articles over 12 days through reuse (window 3 days): keys of "
              f"the space after each quarter {sizes[len(sizes) // 4 - 1]:,}, "
              f"{sizes[len(sizes) // 2 - 1]:,}, {sizes[3 * len(sizes) // 4 - 1]:,}, "
              f"{sizes[-1]:,}; memory now {int(client.info('memory')['used_memory']):,} B")


# -- 4: one and two workers ---------------------------------------------------------------


def _worker(url: str, prefix: str, stages: list[str], queue: Any, out: Any) -> None:
    from copydesk.storyindex import StoryIndex

    original = StoryIndex.redirect

    def redirect(index: StoryIndex, old: str, new: str, at: float) -> None:
        out.put(("redirect", old, new))  # kept whole, beyond the index's window
        original(index, old, new, at)

    StoryIndex.redirect = redirect  # type: ignore[method-assign]
    p = pipeline(stages, detect_language=False)
    p.services.state = redis_state(url, prefix)
    while True:
        item = queue.get()
        if item is None:
            return
        [doc] = p.process_many([item])
        out.put((doc.id, doc.story.id if doc.story else None,
                 doc.reuse.duplicate_of if doc.reuse else None))


def run_workers(articles: list[Any], stages: list[str], workers: int, url: str, prefix: str
                ) -> tuple[dict[str, tuple[str | None, str | None]], dict[str, str]]:
    """Process ``articles`` (in order) on ``workers`` processes sharing one Redis; each
    article's story and duplicate_of, and the story merges (old id -> new)."""
    ctx = multiprocessing.get_context("spawn")
    queue, out = ctx.Queue(), ctx.Queue()
    for article in articles:
        queue.put(article)
    for _ in range(workers):
        queue.put(None)
    procs = [ctx.Process(target=_worker, args=(url, prefix, stages, queue, out))
             for _ in range(workers)]
    for proc in procs:
        proc.start()
    found: dict[str, tuple[str | None, str | None]] = {}
    merges: dict[str, str] = {}
    while len(found) < len(articles):
        message = out.get(timeout=1800)
        if message[0] == "redirect":
            merges[message[1]] = message[2]
        else:
            found[message[0]] = (message[1], message[2])
    for proc in procs:
        proc.join(60)
    return found, merges


def resolve(story: str, merges: dict[str, str]) -> str:
    seen = set()
    while story in merges and story not in seen:
        seen.add(story)
        story = merges[story]
    return story


def bcubed(predicted: dict[str, str], gold: dict[str, str]) -> tuple[float, float, float]:
    by_pred: dict[str, set[str]] = defaultdict(set)
    by_gold: dict[str, set[str]] = defaultdict(set)
    for item in gold:
        by_pred[predicted[item]].add(item)
        by_gold[gold[item]].add(item)
    p = sum(len(by_pred[predicted[i]] & by_gold[gold[i]]) / len(by_pred[predicted[i]])
            for i in gold) / len(gold)
    r = sum(len(by_pred[predicted[i]] & by_gold[gold[i]]) / len(by_gold[gold[i]])
            for i in gold) / len(gold)
    return p, r, 2 * p * r / (p + r) if p + r else 0.0


def workers(rows: list[dict[str, Any]], n_reuse: int,
            sets: Sequence[str] = ("giveme5w1h", "ecbplus")) -> None:
    from copydesk import Article

    names = installed_stages()
    print(f"\n## One and two workers sharing Redis ({load()})")
    with PrivateRedis() as server:
        if "reuse" in names and n_reuse:
            articles = [Article(id=r["id"], text=r["text"],
                                published_at=START + timedelta(minutes=i))
                        for i, r in enumerate(rows[:n_reuse])]
            one, _ = run_workers(articles, ["reuse"], 1, server.url, "r1")
            two, _ = run_workers(articles, ["reuse"], 2, server.url, "r2")
            same = sum(one[a.id][1] == two[a.id][1] for a in articles)
            marked = sum(1 for a in articles if one[a.id][1])
            print(f"reuse: duplicate_of equal for {same} of {len(articles)} articles between "
                  f"1 and 2 workers ({marked} copies marked by 1 worker)")
        if "stories" not in names:
            print("stories: the stage is not installed, B-cubed skipped")
            return
        needs = [s for s in ("cleaning", "entities", "numbers") if s in names]
        for name in sets:
            items = [json.loads(line) for line in (EVAL / f"{name}.jsonl").open()]
            dated = name != "ecbplus"
            if dated:
                items.sort(key=lambda x: (x.get("published_at") or "", x["id"]))
            # an ECB+ article with an empty text is its title (the first sentence)
            articles = [Article(id=x["id"], title=x.get("title"),
                                text=x["text"] if x["text"].strip() else x["title"],
                                published_at=x.get("published_at")) for x in items]
            gold = {x["id"]: str(x["story"]) for x in items}
            for count in (1, 2):
                prefix = f"{name}{count}"
                found, merges = run_workers(articles, [*needs, "stories"], count, server.url,
                                            prefix)
                predicted = {i: resolve(s or f"none-{i}", merges) for i, (s, _) in found.items()}
                p, r, f = bcubed(predicted, gold)
                print(f"stories {name:10s} {count} worker(s): B-cubed P {p:.3f} R {r:.3f} "
                      f"F1 {f:.3f}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sample", type=int, default=60, help="articles for the pipeline rate")
    parser.add_argument("--probe", type=int, default=150,
                        help="articles timed at each stored size")
    parser.add_argument("--sizes", default="1000,10000", help="stored articles to time at")
    parser.add_argument("--redis-articles", type=int, default=1000)
    parser.add_argument("--reuse-workers-articles", type=int, default=600)
    parser.add_argument("--sets", default="giveme5w1h,ecbplus",
                        help="development sets for the stories B-cubed")
    parser.add_argument("--only", choices=["rates", "redis", "workers"], action="append",
                        help="run only these parts (repeatable; default: all)")
    args = parser.parse_args(argv)
    only = set(args.only or ["rates", "redis", "workers"])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop private servers on kill
    rows = corpus()
    print(f"bench/stories.py on {os.cpu_count()} cores, {load()}, python {sys.version.split()[0]}")
    if "rates" in only:
        rates(rows, args.sample, args.probe, [int(s) for s in args.sizes.split(",") if s])
    if "redis" in only:
        redis_bytes(rows, args.redis_articles)
    if "workers" in only:
        workers(rows, args.reuse_workers_articles, [s for s in args.sets.split(",") if s])


if __name__ == "__main__":
    main()
