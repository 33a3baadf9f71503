"""Reprocessing only what changed, against a full run, in one process.

    python bench/reprocess.py [--limit 500] [--batch-size 32]

Runs the whole pipeline (the built-in stages plus the example ``readtime`` plugin, a stage
that does not read the spaCy parse) on a slice of ../shared/corpus/bbc-news-2005.jsonl,
keeps the Documents as JSON (as a file or the store holds them), then times, on copies of
those Documents:

  (a) reprocess after bumping the version of ``readtime`` (no parse needed),
  (b) reprocess after changing the summary config (``sentences = 2``: needs the parse),
  (c) reprocess with nothing changed (the plan alone),

and prints each against the full run. For (b) it also times the spaCy parse of the same
texts alone, and what keeping the parse would cost and save: each document's parse as a
compressed spaCy ``DocBin`` (bytes, against the Document JSON) and the time to load it back.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import zlib
from pathlib import Path

from copydesk import Article, Document, Pipeline, Settings
from copydesk.nlp import load_model
from copydesk.plugin_manager import PluginManager, build_plugin_manager
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "bbc-news-2005.jsonl"
sys.path.insert(0, str(ROOT / "examples" / "copydesk_readtime"))

import copydesk_readtime  # noqa: E402  (the example plugin, registered by hand below)


def load_articles(path: Path, limit: int) -> list[Article]:
    articles = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            row.pop("category", None)
            articles.append(Article.model_validate(row))
            if len(articles) >= limit:
                break
    return articles


def plugins(settings: Settings) -> PluginManager:
    manager = build_plugin_manager(settings)
    if "readtime" not in manager.info:  # not found as an installed distribution
        manager.register(copydesk_readtime, "readtime", version="1.0")
    return manager


def pipeline_for(settings: Settings) -> Pipeline:
    pipeline = Pipeline.build(settings, plugins(settings))
    pipeline.setup()
    return pipeline


def reprocess_seconds(pipeline: Pipeline, stored: list[str]) -> tuple[float, list[str]]:
    """Seconds to read the stored JSON, plan and reprocess the Documents and write them back
    as JSON, and which stages ran (from the first plan)."""
    started = time.perf_counter()
    docs = [Document.model_validate_json(raw) for raw in stored]
    ran: list[str] = []
    for doc, plan in pipeline.reprocess_many(docs):
        ran = ran or plan.to_run
        _ = doc.to_json()
    return time.perf_counter() - started, ran


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=500, help="articles from the corpus")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args()
    console = Console()
    articles = load_articles(args.corpus, args.limit)
    settings = Settings()
    settings.pipeline.batch_size = args.batch_size
    load_before = os.getloadavg()

    full = pipeline_for(settings)
    readtime = copydesk_readtime.ReadtimeStage
    readtime.version = "bench-bumped"
    bumped = pipeline_for(settings)
    readtime.version = None
    summary_settings = Settings(stage={"summary": {"sentences": 2}})
    summary_settings.pipeline.batch_size = args.batch_size
    summary = pipeline_for(summary_settings)
    nlp = load_model(settings.spacy.model)
    list(full.process_many(articles[:8]))  # warm up

    # Batch by batch, every variant on the same batch in turn, so that the load of the
    # shared machine weighs on all of them alike.
    t_full = t_a = t_b = t_c = t_parse = 0.0
    ran: dict[str, list[str]] = {}
    stored: list[str] = []
    parsed = []
    for start in range(0, len(articles), args.batch_size):
        batch = articles[start:start + args.batch_size]
        began = time.perf_counter()
        docs = [d.to_json() for d in full.process_many(batch)]
        t_full += time.perf_counter() - began
        stored += docs
        for key, pipeline in (("a", bumped), ("b", summary), ("c", full)):
            secs, ran[key] = reprocess_seconds(pipeline, docs)
            if key == "a":
                t_a += secs
            elif key == "b":
                t_b += secs
            else:
                t_c += secs
        texts = [Document.model_validate_json(raw).text for raw in docs]
        began = time.perf_counter()
        parsed += list(nlp.pipe(texts, batch_size=args.batch_size))
        t_parse += time.perf_counter() - began
    ran_a, ran_b, ran_c = ran["a"], ran["b"], ran["c"]
    summary_ms = sum(r.duration_ms for raw in stored for r in Document.model_validate_json(
        raw).runs if r.stage == "summary") / 1000

    from spacy.tokens import DocBin

    blobs = []
    for doc in parsed:
        bin_ = DocBin(store_user_data=False)
        bin_.add(doc)
        blobs.append(bin_.to_bytes())  # DocBin.to_bytes is zlib-compressed
    started = time.perf_counter()
    for blob in blobs:
        list(DocBin().from_bytes(blob).get_docs(nlp.vocab))
    t_load = time.perf_counter() - started
    json_bytes = sum(len(raw.encode()) for raw in stored)
    json_z = sum(len(zlib.compress(raw.encode(), 6)) for raw in stored)
    bin_bytes = sum(len(b) for b in blobs)
    load_after = os.getloadavg()

    n = len(articles)
    table = Table("run", "stages run", "seconds", "docs/s", "vs full run",
                  title=f"reprocess vs full run, {n} corpus documents")
    table.add_row("full run", "all", f"{t_full:.2f}", f"{n / t_full:.1f}", "1.00")
    for label, secs, ran in (("(a) readtime version bumped", t_a, ran_a),
                             ("(b) summary sentences = 2", t_b, ran_b),
                             ("(c) nothing changed (plan)", t_c, ran_c)):
        table.add_row(label, ", ".join(ran) or "none", f"{secs:.2f}", f"{n / secs:.1f}",
                      f"{secs / t_full:.3f}  ({t_full / secs:.1f}x as fast)")
    console.print(table)
    console.print(f"(b) in detail: spaCy parse of the same {n} texts alone {t_parse:.2f} s "
                  f"({t_parse / t_b:.0%} of (b), {t_parse / t_full:.0%} of the full run); "
                  f"the summary stage itself {summary_ms:.2f} s (sum of its runs in the "
                  "full run)", highlight=False)
    kept = t_load + summary_ms
    console.print(f"with the parse kept, (b) would be about {kept:.2f} s (load the DocBin + "
                  f"the summary stage): {t_full / kept:.1f}x as fast as the full run",
                  highlight=False)
    console.print(f"keeping the parse: DocBin {bin_bytes / n / 1024:.1f} KiB/document "
                  f"(compressed), against Document JSON {json_bytes / n / 1024:.1f} KiB "
                  f"({json_z / n / 1024:.1f} KiB zlib-compressed): "
                  f"{bin_bytes / json_z:.1f}x the compressed Document; loading it back "
                  f"{t_load:.2f} s vs parsing {t_parse:.2f} s "
                  f"({t_parse / t_load:.1f}x faster)", highlight=False)
    console.print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} "
                  f"({os.cpu_count()} CPUs; the machine is shared)", highlight=False)


if __name__ == "__main__":
    main()
