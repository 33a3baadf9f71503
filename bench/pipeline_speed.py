"""Throughput of the in-process pipeline against spaCy alone, in the same run.

    python bench/pipeline_speed.py [--limit 300] [--batch-size 32]

Reads a slice of ../shared/corpus/bbc-news-2005.jsonl, parses it with the same spaCy
model through ``nlp.pipe`` (the baseline), then runs the whole copydesk pipeline on the
same articles, and prints documents/second, words/second, the ratio of the two and the
mean time each stage takes per document.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import defaultdict
from pathlib import Path

from copydesk import Article, Pipeline, Settings
from copydesk.nlp import load_model
from rich.console import Console
from rich.table import Table

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "bbc-news-2005.jsonl"


def load_articles(limit: int) -> list[Article]:
    articles = []
    with CORPUS.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            articles.append(Article(id=row["id"], title=row.get("title"), text=row["text"],
                                    source=row.get("source")))
            if len(articles) >= limit:
                break
    return articles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=300, help="articles from the corpus")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args()
    console = Console()
    articles = load_articles(args.limit)
    words = sum(len(a.text.split()) for a in articles if a.text)
    settings = Settings()
    settings.pipeline.batch_size = args.batch_size

    nlp = load_model(settings.spacy.model)
    list(nlp.pipe([a.text or "" for a in articles[:16]]))  # warm up
    started = time.perf_counter()
    for _ in nlp.pipe((a.text or "" for a in articles), batch_size=args.batch_size):
        pass
    spacy_seconds = time.perf_counter() - started

    pipeline = Pipeline.build(settings)
    pipeline.setup()
    pipeline.process_many(articles[:16])  # warm up
    started = time.perf_counter()
    docs = list(pipeline.iter_process(articles, batch_size=args.batch_size))
    pipeline_seconds = time.perf_counter() - started

    per_stage: dict[str, list[float]] = defaultdict(list)
    failures: dict[str, int] = defaultdict(int)
    for doc in docs:
        for run in doc.runs:
            per_stage[run.stage].append(run.duration_ms)
            if run.status != "ok":
                failures[run.stage] += 1

    table = Table(title=f"{len(articles)} BBC articles, {words:,} words, model "
                  f"{settings.spacy.model}, batch {args.batch_size}")
    for col in ("run", "docs/s", "words/s", "seconds"):
        table.add_column(col, justify="right" if col != "run" else "left")
    for name, seconds in (("spaCy alone (nlp.pipe)", spacy_seconds),
                          ("copydesk pipeline", pipeline_seconds)):
        table.add_row(name, f"{len(articles) / seconds:.1f}", f"{words / seconds:,.0f}",
                      f"{seconds:.2f}")
    console.print(table)
    console.print(f"pipeline cost / spaCy parse cost: [b]{pipeline_seconds / spacy_seconds:.2f}x[/b]"
                  f"  (stages: {' → '.join(pipeline.names)})")
    stages = Table("stage", "mean ms/doc", "median ms/doc", "not ok", title="per stage")
    for name in pipeline.names:
        values = per_stage.get(name, [0.0])
        stages.add_row(name, f"{statistics.fmean(values):.2f}", f"{statistics.median(values):.2f}",
                       str(failures.get(name, 0)))
    console.print(stages)


if __name__ == "__main__":
    main()
