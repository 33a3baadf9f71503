"""Seconds per stage on long adversarial texts at four sizes: is every stage linear?

    .venv/bin/python bench/adversarial.py                      # all shapes, 10k..500k chars
    .venv/bin/python bench/adversarial.py --sizes 10000,50000 --shapes prose,quote-marks
    .venv/bin/python bench/adversarial.py --no-baseline        # skip spaCy's own tokenizer

Each shape is a text built to the size asked for: ordinary prose (the shared BBC corpus),
a run of quote marks, a run of ``[``, a run of digits, numbers and amounts, one-word
lines, and prose with no sentence ends. Each text goes through the default pipeline one
stage at a time (cleaning, then the shared spaCy parse, then entities, numbers, quotes,
summary), and the table prints the seconds each took at each size, and ``growth``: how
much more a character costs at the largest size than at the smallest (time ratio over
size ratio; 1.0 is linear, 50 at 10k→500k would be quadratic). A stage over ``--budget``
seconds at one size is not run at the larger sizes (``skip`` in the table). The parse
runs without a token limit here; a last table runs the longest article the default
limits admit through every stage and compares its time with the soft time limit.

The baseline table times spaCy's own tokenizer against the bounded one
(``copydesk.tokenguard``) on the same runs of marks, in the same process. The machine is
shared: the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from copydesk import Article, Pipeline, Settings
from copydesk.document import Document
from rich.console import Console
from rich.table import Table

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "bbc-news-2005.jsonl"
SIZES = (10_000, 50_000, 200_000, 500_000)


def corpus_prose() -> str:
    texts = [json.loads(line)["text"] for line in CORPUS.open(encoding="utf-8")]
    return "\n\n".join(texts)


def _fill(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def _framed(run: str) -> str:
    """A run inside an article: a sentence before and after it."""
    return "Officials met in Istanbul on Monday. " + run + " The talks resume on 3 June."


def shapes(prose: str) -> dict[str, Callable[[int], str]]:
    words = prose.split()
    no_ends = " ".join(w.strip(".!?") for w in words)
    return {
        "prose": lambda n: prose[:n],
        "quote marks": lambda n: _framed('"' * n),
        "[ run": lambda n: _framed("[" * n),
        "digit run": lambda n: _framed(_fill("1234567890", n)),
        "numbers": lambda n: _fill("rose 12.5% to $1.3bn, 4,500 jobs, 3 June 2005; ", n),
        "one-word lines": lambda n: _fill("\n".join(words[:20_000]) + "\n", n),
        "no sentence ends": lambda n: no_ends[:n],
    }


def time_stages(pipeline: Pipeline, text: str, skip: set[str]) -> dict[str, float]:
    """Seconds per stage (and for the parse) on one document, stage by stage."""
    doc = Document.from_article(Article(text=text))
    seconds: dict[str, float] = {}
    parsed = False
    for bound in pipeline.stages:
        stage = bound.stage
        if stage.uses_parse and not parsed:
            parsed = True
            if "parse" in skip:
                break
            started = time.perf_counter()
            pipeline.services.shared_parse.parse_many([doc])
            seconds["parse"] = time.perf_counter() - started
            seconds["tokens"] = len(pipeline.services.parse(doc))
        if bound.name in skip:
            continue
        started = time.perf_counter()
        stage.process(doc)
        seconds[bound.name] = time.perf_counter() - started
    problems = doc.offset_problems()
    if problems:
        raise AssertionError(f"offsets broken: {problems[:3]}")
    pipeline.services.shared_parse.release(doc)
    return seconds


def baseline(console: Console, nlp: object) -> None:
    """spaCy's own tokenizer against the bounded one, on runs of marks."""
    bounded = nlp.tokenizer  # type: ignore[attr-defined]
    table = Table(title="Tokenizer on runs of marks: spaCy's own vs copydesk's bounded one")
    for column in ("run", "chars", "spaCy s", "bounded s", "ratio"):
        table.add_column(column, justify="left" if column == "run" else "right")
    for mark in ('"', "["):
        for n in (2_500, 5_000, 10_000):
            text = mark * n
            started = time.perf_counter()
            bounded.inner(text)
            own = time.perf_counter() - started
            started = time.perf_counter()
            bounded(text)
            ours = time.perf_counter() - started
            table.add_row(repr(mark), f"{n:,}", f"{own:.3f}", f"{ours:.4f}",
                          f"{own / max(ours, 1e-6):,.0f}x")
    console.print(table)


def limits_check(console: Console) -> None:
    """The longest article the default limits admit, whole pipeline, against the soft
    limit: prose of ``max_article_chars``, and a dense text just under ``spacy.max_tokens``."""
    settings = Settings()
    pipeline = Pipeline.build(settings)
    pipeline.setup()
    prose = corpus_prose()[:settings.max_article_chars]
    dense = _fill("a, ", settings.spacy.max_tokens * 3 // 2 - 300)  # 2 tokens per 3 chars
    table = Table(title=f"Longest admitted article, every stage (soft limit "
                        f"{settings.worker.soft_time_limit:.0f} s)")
    for column in ("article", "chars", "tokens", "seconds", "share of soft limit", "runs"):
        table.add_column(column, justify="left" if column in ("article", "runs") else "right")
    for name, text in (("prose at max_article_chars", prose),
                       ("'a, ' just under spacy.max_tokens", dense)):
        started = time.perf_counter()
        doc = pipeline.process(Article(text=text))
        took = time.perf_counter() - started
        tokens = len(pipeline.services.nlp.tokenizer(doc.text))
        runs = " ".join(f"{r.stage}:{r.status}" for r in doc.runs)
        table.add_row(name, f"{len(text):,}", f"{tokens:,}", f"{took:.1f}",
                      f"{took / settings.worker.soft_time_limit:.0%}", runs)
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)),
                        help="comma-separated text sizes in characters")
    parser.add_argument("--shapes", default=None, help="comma-separated shape names")
    parser.add_argument("--budget", type=float, default=300.0,
                        help="seconds after which a stage is not run at larger sizes")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--no-limits", action="store_true",
                        help="skip the check of the longest article the defaults admit")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    console = Console()
    # no token limit here: the point is how each stage grows with the text
    pipeline = Pipeline.build(Settings(spacy={"max_tokens": 10**9}))  # type: ignore[arg-type]
    pipeline.setup()
    time_stages(pipeline, "Warm up: the minister said 3 things in Paris.", set())
    console.print(f"load average before: {os.getloadavg()}")
    if not args.no_baseline:
        baseline(console, pipeline.services.nlp)
    all_shapes = shapes(corpus_prose())
    wanted = args.shapes.split(",") if args.shapes else list(all_shapes)
    table = Table(title="Seconds per stage by text size (characters)")
    table.add_column("shape")
    table.add_column("stage")
    for n in sizes:
        table.add_column(f"{n:,}", justify="right")
    table.add_column("growth", justify="right")
    for name in wanted:
        results: dict[int, dict[str, float]] = {}
        skip: set[str] = set()
        for n in sizes:
            results[n] = time_stages(pipeline, all_shapes[name](n), skip)
            skip |= {stage for stage, s in results[n].items()
                     if stage != "tokens" and s > args.budget}
            console.print(f"  {name} {n:,}: " + ", ".join(
                f"{k} {v:.2f}" for k, v in results[n].items()), style="dim")
        stages = list(results[sizes[0]])
        for stage in stages:
            if stage == "tokens":
                table.add_row(name, "(tokens)", *[f"{int(results[n].get(stage, 0)):,}"
                                                  for n in sizes], "")
                continue
            row = [f"{results[n][stage]:.2f}" if stage in results[n] else "skip" for n in sizes]
            first, last = results[sizes[0]].get(stage), results[sizes[-1]].get(stage)
            growth = "-"
            if first and last and first > 0.005:
                growth = f"{(last / first) / (sizes[-1] / sizes[0]):.1f}"
            table.add_row(name, stage, *row, growth)
        table.add_section()
    console.print(table)
    if not args.no_limits:
        limits_check(console)
    console.print(f"load average after: {os.getloadavg()} ({os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
