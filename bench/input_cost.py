"""What taking input as it comes costs: language detection, big pages, deep nesting.

    python bench/input_cost.py [--limit 200] [--shared ../shared]

Prints, in one run: language detection's milliseconds per corpus article against the
default pipeline's per article (the ratio is what detection adds); seconds to read and
process the largest benchmark news page by default; and the cleaning stage's seconds on a
page nested 260 and 3,000 elements deep against the same page unnested.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import time
from pathlib import Path

from copydesk import Article, Pipeline, Settings
from copydesk.inputs import read_input
from copydesk.language import detect, warm_up

ROOT = Path(__file__).resolve().parents[1]
PARAGRAPH = ("The foreign minister said on Monday that the talks in Istanbul would resume "
             "next week, after both delegations agreed on a new agenda. ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    args = parser.parse_args()
    corpus = args.shared / "corpus" / "bbc-news-2005.jsonl"
    with corpus.open(encoding="utf-8") as lines:
        rows = [json.loads(line) for line in itertools.islice(lines, args.limit)]
    articles = [Article(id=r["id"], title=r["title"], text=r["text"]) for r in rows]

    pipeline = Pipeline.build(Settings())
    pipeline.setup()
    warm_up()
    started = time.perf_counter()
    found = [detect(a.text or "") for a in articles]
    detect_ms = (time.perf_counter() - started) * 1000 / len(articles)
    started = time.perf_counter()
    docs = list(pipeline.iter_process(articles))
    pipeline_ms = (time.perf_counter() - started) * 1000 / len(articles)
    english = sum(1 for f in found if f is not None and f.language == "en")
    print(f"language detection: {detect_ms:.2f} ms/article; pipeline {pipeline_ms:.1f} "
          f"ms/article; detection is {detect_ms / pipeline_ms:.1%} of it "
          f"({english}/{len(articles)} detected en, "
          f"{sum(d.language == 'en' for d in docs)} documents en)")

    pages = args.shared / "eval" / "cleaning" / "html"
    largest = max(pages.glob("*.html.gz"), key=lambda p: p.stat().st_size)
    page = Path("/tmp") / f"input-cost-{largest.name.removesuffix('.gz')}"
    page.write_bytes(gzip.decompress(largest.read_bytes()))
    started = time.perf_counter()
    (article,) = read_input(str(page))
    assert isinstance(article, Article), article
    doc = pipeline.process(article)
    print(f"largest benchmark page ({page.stat().st_size:,} bytes): {doc.status} in "
          f"{time.perf_counter() - started:.2f} s, {len(doc.text):,} characters of text")

    cleaning = Pipeline.build(Settings(pipeline={"stages": ["cleaning"]}))
    cleaning.setup()
    body = "".join(f"<p>{PARAGRAPH}</p>" for _ in range(30))
    timings = {}
    for depth in (0, 260, 3000):
        html = ("<html><body>" + "<div>" * depth + f"<article>{body}</article>"
                + "</div>" * depth + "</body></html>")
        started = time.perf_counter()
        for _ in range(5):
            out = cleaning.process(Article(html=html))
        timings[depth] = (time.perf_counter() - started) / 5
        assert out.status == "done" and PARAGRAPH.strip() in out.text
    print("cleaning a 30-paragraph page nested 0 / 260 / 3,000 deep: "
          + " / ".join(f"{timings[d] * 1000:.0f} ms" for d in timings)
          + f" ({timings[3000] / timings[0]:.1f}x at 3,000)")


if __name__ == "__main__":
    main()
