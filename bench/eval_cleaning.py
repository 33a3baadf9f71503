"""Evaluate the cleaning stage on the article-extraction benchmark pages.

Gold: ``../shared/eval/cleaning/`` — 91 news/blog pages as HTML (``html/<id>.html.gz``)
with the article body a person extracted (``ground-truth.json``), and the same pages as
the whole page's visible text (``fullpage-text.jsonl``: ``page_text`` with menus,
footers and comments, and ``gold_article_body``) — what a copy-paste of a page gives.

The measure is the benchmark's own: word 4-gram shingles (tokens are ``\\w+`` matches),
true/false positives and false negatives counted as multiset overlaps per page and
summed over all pages, then precision, recall and F1.

Systems, in the same run:

* ``copydesk · HTML``: the cleaning stage on the HTML (trafilatura inside, favouring
  recall, then the furniture rules);
* ``trafilatura alone · HTML``: ``trafilatura.extract`` with its defaults, and again
  with ``favor_recall=True`` (the setting the stage uses), so the gain of the stage's
  own rules over the library is visible;
* ``copydesk · page text``: the cleaning stage on ``page_text`` (rules + classifier);
* ``copydesk rules only · page text``: the same without the line classifier;
* ``keep everything · page text``: the page text as it is (the baseline, F1 0.673).

Run::

    .venv/bin/python bench/eval_cleaning.py             # all 91 pages
    .venv/bin/python bench/eval_cleaning.py --limit 20  # the first 20
    .venv/bin/python bench/eval_cleaning.py --worst 10  # also list the 10 worst pages
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from copydesk.document import Article, Document  # noqa: E402
from copydesk.nlp import SharedParse  # noqa: E402
from copydesk.plugins.cleaning import CleaningConfig, CleaningStage  # noqa: E402
from copydesk.settings import DEFAULT_SPACY_MODEL  # noqa: E402
from copydesk.stage import Services  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "eval" / "cleaning"
_TOKEN = re.compile(r"\w+")


@dataclass(frozen=True)
class Page:
    """One benchmark page with both gold bodies (they are the same text)."""

    id: str
    url: str
    html: str
    page_text: str
    gold_html: str
    gold_text: str


@dataclass
class Counts:
    """Shingle counts summed over pages."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, other: Counts) -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    """The word n-grams of ``text`` with their counts (tokens: ``\\w+`` matches)."""
    words = _TOKEN.findall(text or "")
    return Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


def score(gold: str, predicted: str) -> Counts:
    """Shingle overlap of one page: multiset intersection and the two differences."""
    g, p = shingles(gold), shingles(predicted)
    tp = sum((g & p).values())
    return Counts(tp=tp, fp=sum(p.values()) - tp, fn=sum(g.values()) - tp)


def load_pages(data: Path = DEFAULT_DATA, limit: int | None = None) -> list[Page]:
    """The benchmark pages, in the order of ``fullpage-text.jsonl``."""
    truth = json.loads((data / "ground-truth.json").read_text(encoding="utf-8"))
    pages: list[Page] = []
    with (data / "fullpage-text.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            if limit is not None and len(pages) >= limit:
                break
            row = json.loads(line)
            raw = gzip.decompress((data / "html" / f"{row['id']}.html.gz").read_bytes())
            pages.append(
                Page(
                    id=row["id"],
                    url=row.get("url") or truth[row["id"]].get("url", ""),
                    html=_decode(raw),
                    page_text=row["page_text"],
                    gold_html=truth[row["id"]]["articleBody"],
                    gold_text=row["gold_article_body"],
                )
            )
    return pages


def _decode(raw: bytes) -> str:
    head = raw[:4096].decode("ascii", "ignore")
    found = re.search(r"charset=[\"']?([\w-]+)", head, re.IGNORECASE)
    for encoding in ([found.group(1)] if found else []) + ["utf-8", "cp1252"]:
        try:
            return raw.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return raw.decode("utf-8", "replace")


def make_stage(**config: object) -> CleaningStage:
    stage = CleaningStage(
        CleaningConfig.model_validate(config), Services(SharedParse(DEFAULT_SPACY_MODEL))
    )
    stage.setup()
    return stage


def run_stage(stage: CleaningStage, article: Article) -> Document:
    doc = Document.from_article(article)
    stage.process(doc)
    problems = doc.offset_problems()
    if problems:
        raise AssertionError(f"{article.id}: invalid offsets: {problems[:3]}")
    return doc


def systems() -> dict[str, tuple[str, Callable[[Page], str]]]:
    """name -> (gold field, function from page to predicted body)."""
    import trafilatura

    full = make_stage()
    rules_only = make_stage(classifier=False)
    return {
        "copydesk · HTML": (
            "gold_html",
            lambda p: run_stage(full, Article(html=p.html, url=p.url or None)).text,
        ),
        "trafilatura alone · HTML": (
            "gold_html",
            lambda p: trafilatura.extract(p.html, url=p.url or None) or "",
        ),
        "trafilatura favor_recall · HTML": (
            "gold_html",
            lambda p: trafilatura.extract(p.html, url=p.url or None, favor_recall=True) or "",
        ),
        "copydesk · page text": (
            "gold_text",
            lambda p: run_stage(full, Article(text=p.page_text)).text,
        ),
        "copydesk rules only · page text": (
            "gold_text",
            lambda p: run_stage(rules_only, Article(text=p.page_text)).text,
        ),
        "keep everything · page text": ("gold_text", lambda p: p.page_text),
    }


def evaluate(
    pages: Iterable[Page],
    only: Iterable[str] | None = None,
) -> dict[str, tuple[Counts, float, list[tuple[float, Page]]]]:
    """name -> (summed counts, seconds, per-page F1s) for every (selected) system."""
    pages = list(pages)
    chosen = systems()
    if only is not None:
        wanted = set(only)
        chosen = {k: v for k, v in chosen.items() if k in wanted}
    results = {}
    for name, (gold_field, predict) in chosen.items():
        total = Counts()
        per_page = []
        started = time.perf_counter()
        for page in pages:
            counts = score(getattr(page, gold_field), predict(page))
            total.add(counts)
            per_page.append((counts.f1, page))
        results[name] = (total, time.perf_counter() - started, per_page)
    return results


def main(argv: list[str] | None = None) -> int:
    from rich.console import Console
    from rich.table import Table

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=None, help="only the first N pages")
    parser.add_argument("--worst", type=int, default=0, help="list the N worst pages")
    args = parser.parse_args(argv)
    if not (args.data / "ground-truth.json").exists():
        print(f"no evaluation data at {args.data}", file=sys.stderr)
        return 2
    pages = load_pages(args.data, args.limit)
    results = evaluate(pages)
    table = Table(title=f"Article body extraction, {len(pages)} pages (word 4-gram shingles)",
                  caption="development figures: the held-out pages are kept apart")
    for column in ("system", "precision", "recall", "F1", "seconds"):
        table.add_column(column, justify="left" if column == "system" else "right")
    for name, (counts, seconds, _) in results.items():
        table.add_row(name, f"{counts.precision:.3f}", f"{counts.recall:.3f}",
                      f"{counts.f1:.3f}", f"{seconds:.1f}")
    console = Console()
    console.print(table)
    if args.worst:
        for name in ("copydesk · HTML", "copydesk · page text"):
            console.print(f"\n[bold]{name}[/]: worst pages")
            for f1, page in sorted(results[name][2], key=lambda x: x[0])[: args.worst]:
                console.print(f"  {f1:.3f}  {page.url[:90]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
