"""How much the stories stage's partition depends on the order articles arrive in.

Corpus articles of every category, interleaved and 12 minutes apart (two and a half days
for 300), go through the ``entities`` and ``stories`` stages in publication order and
then in shuffled orders (seeded), as workers taking a queue out of order would see them.
For each linkage it prints the B-cubed F1 of each shuffled partition against the
in-order one (1.000: no dependence on order) and against the corpus categories::

    python bench/stories_order.py [--n 300] [--seeds 5]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from copydesk import Article, Pipeline, Settings
from copydesk.storyindex import StoryIndex

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_stories import bcubed

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "bbc-news-2005.jsonl"
START = datetime(2005, 2, 1, 6, 0)
LINKAGES: dict[str, dict[str, Any]] = {
    "average (default)": {},
    "average, no story merge": {"merge_slack": None},
    "single": {"linkage": "single", "threshold": 0.28, "entity_weight": 1.5,
               "date_weight": 1.0},
}


def dated_articles(n: int) -> tuple[list[Article], dict[str, str]]:
    """``n`` corpus articles, categories interleaved, 12 minutes apart; and their
    categories."""
    by_category: dict[str, list[dict[str, Any]]] = {}
    with CORPUS.open(encoding="utf-8") as lines:
        for row in map(json.loads, lines):
            by_category.setdefault(row["category"], []).append(row)
    mixed = [row for group in zip(*by_category.values(), strict=False) for row in group][:n]
    articles = [Article(id=r["id"], title=r["title"], text=r["text"],
                        published_at=START + timedelta(minutes=12 * i))
                for i, r in enumerate(mixed)]
    return articles, {r["id"]: r["category"] for r in mixed}


def partition(articles: list[Article], config: dict[str, Any]) -> dict[str, str]:
    """Each article's story after every merge, processing ``articles`` in that order."""
    pipeline = Pipeline.build(Settings(
        pipeline={"stages": ["entities", "stories"]},  # type: ignore[arg-type]
        stage={"stories": config}))
    docs = list(pipeline.iter_process(articles))
    index = StoryIndex(pipeline.services.state)
    return {d.id: index.resolve(d.story.id) for d in docs if d.story}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args(argv)
    if not CORPUS.exists():
        raise SystemExit(f"{CORPUS} is not available")
    articles, category = dated_articles(args.n)
    def bcubed_f1(pred: dict[str, str], gold: dict[str, str]) -> float:
        ids = list(gold)
        return bcubed([pred[i] for i in ids], [gold[i] for i in ids])[2]

    print(f"{len(articles)} corpus articles, 12 minutes apart; {args.seeds} shuffled orders")
    for name, config in LINKAGES.items():
        started = time.perf_counter()
        in_order = partition(articles, config)
        agree, gold = [], []
        for seed in range(args.seeds):
            shuffled = articles[:]
            random.Random(seed).shuffle(shuffled)
            other = partition(shuffled, config)
            agree.append(bcubed_f1(other, in_order))
            gold.append(bcubed_f1(other, category))
        groups = sum(1 for s in set(in_order.values()) if list(in_order.values()).count(s) > 1)
        print(f"  {name:<26} shuffled vs in order: B3 F1 {min(agree):.3f}-{max(agree):.3f}; "
              f"vs categories {bcubed_f1(in_order, category):.3f} in order, "
              f"{min(gold):.3f}-{max(gold):.3f} shuffled; {groups} stories of 2+ "
              f"({time.perf_counter() - started:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
