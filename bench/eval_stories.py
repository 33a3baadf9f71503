"""Evaluate the stories stage against TF-IDF baselines on the shared event sets.

Reads ``../shared/eval/stories`` (never copied into the repo):

- ``giveme5w1h.jsonl``: dated news articles grouped by event, fed in ``published_at`` order;
- ``ecbplus.jsonl``: undated articles, two events of one kind per topic, fed in file order;
- ``semeval2022-pairs.jsonl``: article pairs, the same story when ``overall`` <= 1.5.

copydesk's side is the real pipeline (``entities``, ``numbers`` and ``stories`` stages,
the stage's default settings unless given), processing the articles in that order. Its
partition is scored twice: the story ids as each Document was written ("as written") and
after following the redirects of later merges ("resolved", the stage's final answer).

The baselines are computed in the same run on the same texts (title and text): TF-IDF
(scikit-learn, sublinear tf, English stop words, fitted on the set) with a single-pass
online clusterer (an article joins the most similar story centroid at or above a threshold,
else starts one) and offline average-linkage (cosine distance, cut at a threshold). Each
baseline's threshold is the best of a sweep on the set itself, so the baselines are at
their tuned best on these halves; copydesk runs at its fixed defaults.

Pairs: a pair is the same story when the stage's link decision says so (its cosine at or
above the stage's threshold); the baseline is the TF-IDF cosine at its best threshold.

Scores: B-cubed precision/recall/F1 (every article weighted equally) and pairwise
precision/recall/F1 over same-story pairs. ``--sweep`` also prints the stage's scores over
a range of thresholds (how the default was chosen; on the dated set with a 10-year
window, the condition the baselines run in).

The dated set's events run for weeks or months (some for years), so the default 3-day
window caps what any windowed clusterer can score there; the script prints that ceiling
and the stage's score with a 10-year window beside the default: the baselines see every
article at once, so the 10-year window (no window) is the condition in which the stage is
compared with them. ECB+ is undated (articles get their arrival time), so its one window
holds every article. For each set it also prints the B-cubed F1 at the stage's threshold
-0.05 and +0.05 (pairs: F1), to show how much the score hangs on the threshold. Usage::

    python bench/eval_stories.py [--sets g5,ecb,pairs] [--sweep] [--threshold X]
        [--window-days D]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from copydesk import Pipeline, Settings
from copydesk.document import Article, Document
from copydesk.plugins.stories import SPACE, StoriesStage
from copydesk.plugins.stories.linking import Entry, Linker
from copydesk.state import SharedState
from copydesk.storyindex import StoryIndex

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "eval" / "stories"
SETS = {"g5": "giveme5w1h.jsonl", "ecb": "ecbplus.jsonl"}
PAIRS = "semeval2022-pairs.jsonl"
SAME_STORY = 1.5
WIDE_DAYS = 3650.0


def read_jsonl(name: str) -> list[dict[str, Any]]:
    path = SHARED / name
    if not path.exists():
        raise SystemExit(f"{path} is not available")
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def as_article(row: dict[str, Any], undated_lead: bool) -> Article:
    """The article of a row; with ``undated_lead`` (ECB+), ``title`` is the first sentence
    of the text, not a headline, and goes back in front of it."""
    text, title = row["text"], row.get("title")
    if undated_lead:
        text, title = f"{title or ''}\n{text}".strip(), None
    return Article(id=row["id"], text=text, title=title, source=row.get("source"),
                   url=row.get("url"), published_at=row.get("published_at"), language="en")


def feed_order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Articles by ``published_at`` (undated ones keep file order, after dated ones)."""
    indexed = list(enumerate(rows))
    indexed.sort(key=lambda p: (p[1].get("published_at") is None,
                                p[1].get("published_at") or "", p[0]))
    return [row for _, row in indexed]


# ---------------------------------------------------------------- scores


def bcubed(pred: Sequence[Hashable], gold: Sequence[Hashable]) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1, every item weighted equally."""
    n = len(gold)
    precision = recall = 0.0
    for i in range(n):
        same_pred = {j for j in range(n) if pred[j] == pred[i]}
        same_gold = {j for j in range(n) if gold[j] == gold[i]}
        both = len(same_pred & same_gold)
        precision += both / len(same_pred)
        recall += both / len(same_gold)
    p, r = precision / n, recall / n
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def pairwise(pred: Sequence[Hashable], gold: Sequence[Hashable]) -> tuple[float, float, float]:
    """Precision, recall and F1 of same-cluster decisions over all pairs of items."""
    tp = fp = fn = 0
    n = len(gold)
    for i in range(n):
        for j in range(i + 1, n):
            p, g = pred[i] == pred[j], gold[i] == gold[j]
            tp += p and g
            fp += p and not g
            fn += g and not p
    return prf(tp, fp, fn)


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


# ---------------------------------------------------------------- baselines


def tfidf(texts: list[str]) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(sublinear_tf=True, stop_words="english").fit_transform(texts)


def single_pass(matrix: Any, threshold: float) -> list[int]:
    """Online: each row joins the nearest centroid at or above ``threshold``, else starts one.

    Works on the Gram matrix of the (unit) rows: a centroid's dot product with a row is the
    sum of that row's dot products with the members, its squared norm kept as it grows."""
    gram = (matrix @ matrix.T).toarray()
    members: list[list[int]] = []
    norms2: list[float] = []
    labels: list[int] = []
    for j in range(gram.shape[0]):
        best, best_sim = -1, threshold
        for k, group in enumerate(members):
            sim = float(gram[j, group].sum()) / (norms2[k] ** 0.5 or 1.0)
            if sim >= best_sim:
                best, best_sim = k, sim
        if best < 0:
            members.append([j])
            norms2.append(float(gram[j, j]))
            best = len(members) - 1
        else:
            norms2[best] += 2 * float(gram[j, members[best]].sum()) + float(gram[j, j])
            members[best].append(j)
        labels.append(best)
    return labels


def average_linkage(matrix: Any, threshold: float) -> list[int]:
    from sklearn.cluster import AgglomerativeClustering

    model = AgglomerativeClustering(
        n_clusters=None, metric="precomputed", linkage="average",
        distance_threshold=1.0 - threshold,
    )
    distances = 1.0 - (matrix @ matrix.T).toarray()  # rows are unit length: cosine distance
    return [int(v) for v in model.fit_predict(distances.clip(min=0.0))]


def best_threshold(
    score: Any, thresholds: Sequence[float]
) -> tuple[float, tuple[float, float, float]]:
    results = [(t, score(t)) for t in thresholds]
    return max(results, key=lambda tr: tr[1][2])


# ---------------------------------------------------------------- copydesk


def build_pipeline(overrides: dict[str, Any], stages: Sequence[str] = (
        "entities", "numbers", "stories")) -> tuple[Pipeline, StoriesStage]:
    settings = Settings(
        pipeline={"stages": list(stages)},  # type: ignore[arg-type]
        stage={"stories": overrides},
    )
    pipeline = Pipeline.build(settings)
    found = [b.stage for b in pipeline.stages if b.name == "stories"]
    stage = found[0] if found else StoriesStage(
        StoriesStage.Config.model_validate(overrides), pipeline.services)
    assert isinstance(stage, StoriesStage)
    return pipeline, stage


def run_stage(articles: list[Article], overrides: dict[str, Any]) -> tuple[
        list[Document], StoriesStage]:
    pipeline, stage = build_pipeline(overrides)
    docs: list[Document] = []
    for start in range(0, len(articles), 16):
        docs.extend(pipeline.process_many(articles[start:start + 16]))
    for doc in docs:
        failed = [r for r in doc.runs if r.status == "failed"]
        if failed:
            raise SystemExit(f"{doc.id}: {failed[0].stage} failed: {failed[0].error}")
    return docs, stage


class Redirects:
    """The merges the stage made (old story id -> new), to resolve the ids it wrote."""

    def __init__(self) -> None:
        self.to: dict[str, str] = {}

    def record(self, old: str, new: str, *_: Any) -> None:
        self.to[old] = new

    def resolve(self, story: str) -> str:
        while story in self.to:
            story = self.to[story]
        return story


@contextmanager
def watch_merges() -> Iterator[Redirects]:
    """Record every merge the stories stage reports to the story index (eval only)."""
    redirects = Redirects()
    original = StoryIndex.redirect

    def redirect(index: StoryIndex, old: str, new: str, at: float) -> None:
        redirects.record(old, new)
        original(index, old, new, at)

    StoryIndex.redirect = redirect  # type: ignore[method-assign]
    try:
        yield redirects
    finally:
        StoryIndex.redirect = original  # type: ignore[method-assign]


def relink(entries: list[Entry], stage: StoriesStage, threshold: float,
           window_days: float | None = None) -> list[str]:
    """The resolved partition at another threshold or window (same vectors, same order)."""
    cfg = stage.config
    days = window_days or cfg.window_days
    space = SharedState().space(SPACE, window=timedelta(days=days))
    redirects = Redirects()
    linker = Linker(space, threshold, cfg.index_terms, cfg.candidates, redirects.record,
                    cfg.merge_margin, cfg.linkage == "average", cfg.merge_slack)
    written = [linker.add(entry).id for entry in entries]
    return [redirects.resolve(s) for s in written]


def window_ceiling(entries: list[Entry], gold: list[str], days: float) -> list[str]:
    """Gold stories cut wherever a story has no article for ``days``: the best partition a
    clusterer that links only articles within the window can reach."""
    last: dict[str, tuple[float, str]] = {}
    out = []
    for entry, story in sorted(zip(entries, gold, strict=True), key=lambda p: p[0].time):
        seen = last.get(story)
        part = seen[1] if seen and entry.time - seen[0] <= days * 86_400 else entry.id
        last[story] = (entry.time, part)
        out.append((entry.id, part))
    cut = dict(out)
    return [cut[e.id] for e in entries]


def line(name: str, b3: tuple[float, float, float], pw: tuple[float, float, float],
         note: str = "") -> str:
    return (f"  {name:<34} B3 P {b3[0]:.3f} R {b3[1]:.3f} F1 {b3[2]:.3f}   "
            f"pairs P {pw[0]:.3f} R {pw[1]:.3f} F1 {pw[2]:.3f}  {note}")


def eval_set(key: str, overrides: dict[str, Any], sweep: bool) -> None:
    rows = read_jsonl(SETS[key])
    rows = feed_order(rows) if key == "g5" else rows
    gold = [r["story"] for r in rows]
    print(f"{SETS[key]}: {len(rows)} articles, {len(set(gold))} stories")
    started = time.perf_counter()
    articles = [as_article(r, undated_lead=key == "ecb") for r in rows]
    with watch_merges() as redirects:
        docs, stage = run_stage(articles, overrides)
    elapsed = time.perf_counter() - started
    written = [d.story.id if d.story else d.id for d in docs]
    resolved = [redirects.resolve(s) for s in written]
    cfg = stage.config
    print(line("copydesk stories (resolved)", bcubed(resolved, gold), pairwise(resolved, gold),
               f"threshold {cfg.threshold}, window {cfg.window_days} d, {elapsed:.1f} s"))
    print(line("copydesk stories (as written)", bcubed(written, gold), pairwise(written, gold)))
    entries = [stage.entry(doc) for doc in docs]
    if key == "g5":
        ceiling = window_ceiling(entries, gold, cfg.window_days)
        print(line(f"best possible in a {cfg.window_days:g}-day window", bcubed(ceiling, gold),
                   pairwise(ceiling, gold), "(gold, cut where a story goes quiet that long)"))
        wide = relink(entries, stage, cfg.threshold, window_days=WIDE_DAYS)
        print(line("copydesk stories, window 10 years", bcubed(wide, gold), pairwise(wide, gold),
                   "(the baselines' condition: no window)"))
    sensitivity(entries, stage, gold, key)

    matrix = tfidf([f"{a.title or ''}\n{a.text}" for a in articles])
    grid = [round(0.05 * i, 2) for i in range(1, 19)]
    t1, _ = best_threshold(lambda t: bcubed(single_pass(matrix, t), gold), grid)
    sp = single_pass(matrix, t1)
    print(line("TF-IDF single-pass (best threshold)", bcubed(sp, gold), pairwise(sp, gold),
               f"threshold {t1}"))
    t2, _ = best_threshold(lambda t: bcubed(average_linkage(matrix, t), gold), grid)
    al = average_linkage(matrix, t2)
    print(line("TF-IDF average-linkage (best thr.)", bcubed(al, gold), pairwise(al, gold),
               f"threshold {t2}"))
    if sweep:
        for t in [round(0.02 * i, 2) for i in range(5, 31)]:
            part = relink(entries, stage, t, window_days=WIDE_DAYS if key == "g5" else None)
            print(line(f"  stories at threshold {t}", bcubed(part, gold), pairwise(part, gold)))


def sensitivity(entries: list[Entry], stage: StoriesStage, gold: list[str], key: str) -> None:
    """B-cubed F1 at the stage's threshold -0.05 and +0.05 (how much the score hangs on it),
    at the default window and, for the dated set, at 10 years."""
    t = stage.config.threshold
    windows = [None, WIDE_DAYS] if key == "g5" else [None]
    for days in windows:
        scores = [bcubed(relink(entries, stage, round(t + d, 3), window_days=days), gold)[2]
                  for d in (-0.05, 0.0, 0.05)]
        where = "10 years" if days else f"{stage.config.window_days:g} d"
        print(f"  threshold {t - 0.05:.2f} / {t:.2f} / {t + 0.05:.2f} (window {where}): "
              f"B3 F1 {scores[0]:.3f} / {scores[1]:.3f} / {scores[2]:.3f}")


def eval_pairs(overrides: dict[str, Any], sweep: bool) -> None:
    rows = read_jsonl(PAIRS)
    gold = [r["overall"] <= SAME_STORY for r in rows]
    print(f"{PAIRS}: {len(rows)} pairs, {sum(gold)} the same story")
    pipeline, stage = build_pipeline(overrides, ("entities", "numbers"))
    texts: list[str] = []
    sims: list[float] = []
    for r in rows:
        a, b = (Article(id=f"{side}-{r[side]['id']}", text=r[side]["text"], language="en")
                for side in ("a", "b"))
        da, db = pipeline.process_many([a, b])
        sims.append(stage.similarity(da, db))
        texts += [r["a"]["text"], r["b"]["text"]]

    def decide(scores: Sequence[float], threshold: float) -> tuple[float, float, float]:
        tp = sum(s >= threshold and g for s, g in zip(scores, gold, strict=True))
        fp = sum(s >= threshold and not g for s, g in zip(scores, gold, strict=True))
        fn = sum(s < threshold and g for s, g in zip(scores, gold, strict=True))
        return prf(tp, fp, fn)

    t0 = stage.config.threshold
    ours = decide(sims, t0)
    print(f"  copydesk stories link decision        P {ours[0]:.3f} R {ours[1]:.3f} "
          f"F1 {ours[2]:.3f}  threshold {t0}")
    near = [decide(sims, t0 + d)[2] for d in (-0.05, 0.05)]
    print(f"  threshold {t0 - 0.05:.2f} / {t0 + 0.05:.2f}: F1 {near[0]:.3f} / {near[1]:.3f}")
    matrix = tfidf(texts)
    base = [float(matrix[2 * i].multiply(matrix[2 * i + 1]).sum()) for i in range(len(rows))]
    grid = [round(0.02 * i, 2) for i in range(1, 50)]
    t, score = best_threshold(lambda t: decide(base, t), grid)
    print(f"  TF-IDF cosine (best threshold)        P {score[0]:.3f} R {score[1]:.3f} "
          f"F1 {score[2]:.3f}  threshold {t}")
    if sweep:
        for t in [round(0.02 * i, 2) for i in range(5, 31)]:
            s = decide(sims, t)
            print(f"    stories at threshold {t}: P {s[0]:.3f} R {s[1]:.3f} F1 {s[2]:.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default="g5,ecb,pairs")
    parser.add_argument("--sweep", action="store_true")
    parser.add_argument("--threshold", type=float)
    parser.add_argument("--window-days", type=float)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="another [stage.stories] setting, e.g. --set lead_boost=1.5")
    args = parser.parse_args(argv)
    overrides: dict[str, Any] = {}
    if args.threshold is not None:
        overrides["threshold"] = args.threshold
    if args.window_days is not None:
        overrides["window_days"] = args.window_days
    for item in args.set:
        key, _, value = item.partition("=")
        overrides[key] = json.loads(value)
    for key in args.sets.split(","):
        if key == "pairs":
            eval_pairs(overrides, args.sweep)
        elif key in SETS:
            eval_set(key, overrides, args.sweep)
        else:
            raise SystemExit(f"unknown set {key!r}: g5, ecb or pairs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
