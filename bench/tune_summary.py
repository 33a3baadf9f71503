"""Tune the summary stage's default weights on the even half; report on both halves.

The gold sets are split by article position: even lines are *dev*, odd lines *test*
(``eval_summary.py --half``). The odd half is not held out: the tuner does not see it,
but the stage's rules were written reading articles of both halves; the held-out half of
each set is kept apart from this repository. Coordinate search changes one weight at a time over a small
grid, keeping a change only when it raises the objective on the dev half: the mean over
(CNN/DM+Newsroom at 3 sentences, BBC at 3, BBC at the reference's count) of the relative
gain of (ROUGE-1 + ROUGE-2) / 2 over lead-N, plus the smallest of those three gains (so a
weight that helps BBC while losing to lead-3 on CNN/DM does not win). The final weights are then scored on both halves, next to lead-N.
``--random N`` first draws N weight sets at random from the grids and starts the
coordinate search from the best. Features are computed once per article (they do not depend on the weights) and ROUGE is
cached per picked sentence set, so a full search takes minutes. Usage::

    python bench/tune_summary.py [--limit N] [--random 200] [--rounds 2] [--cache DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from copydesk import Settings
from copydesk.nlp import load_model
from copydesk.plugins.summary.features import candidates, term_list
from copydesk.plugins.summary.rank import Ranked, Weights, prepare, select
from eval_summary import load_set, reference_sentence_count

#: The grid each weight is searched over.
GRID: dict[str, list[float]] = {
    "position": [0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0],
    "position_decay": [0.5, 0.75, 1.0, 1.5, 2.0],
    "centrality": [0.0, 0.25, 0.5, 0.75, 1.0],
    "backward_weight": [-0.5, -0.25, 0.0, 0.25, 0.5],
    "title": [0.0, 0.15, 0.3, 0.5, 0.8],
    "lead": [0.0, 0.15, 0.3, 0.5, 0.8],
    "signature": [0.0, 0.15, 0.3, 0.5, 0.8],
    "textrank": [0.0, 0.3, 0.6, 1.0, 2.0],
    "entities": [0.0, 0.15, 0.3, 0.5, 0.8],
    "numbers": [0.0, 0.05, 0.1, 0.2, 0.4],
    "paragraph_start": [0.0, 0.05, 0.1, 0.2],
    "quoted": [0.0, 0.1, 0.2, 0.4],
    "question": [0.0, 0.15, 0.3, 0.6],
    "dangling": [0.0, 0.1, 0.2, 0.4],
    "pictured": [0.0, 0.2, 0.5, 1.0],
    "length": [-0.2, -0.1, 0.0, 0.1, 0.2, 0.4],
    "long": [0.0, 0.15, 0.3, 0.6],
    "long_words": [35, 45, 55, 70],
    "short": [0.0, 0.1, 0.2, 0.4],
    "short_words": [6, 8, 10, 12],
    "redundancy": [0.0, 0.25, 0.5, 1.0],
    "duplicate": [0.5, 0.6, 0.7, 0.85, 1.0],
}


@dataclass
class Item:
    ranked: Ranked
    sentences: list[str]
    references: list[str]
    ref_count: int


def build_items(name: str, half: str, limit: int | None, cache: Path | None) -> list[Item]:
    """Parse one half of a set (or read the parse cache) and prepare every article."""
    from spacy.tokens import DocBin

    rows = load_set(name, limit, half)
    nlp = load_model(Settings().spacy.model)  # the model the stage parses with
    path = cache / f"{name}-{half}-{limit}.spacy" if cache else None
    if path and path.exists():
        parsed = list(DocBin().from_disk(path).get_docs(nlp.vocab))
    else:
        parsed = list(nlp.pipe((r["text"] for r in rows), batch_size=32))
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)
            DocBin(docs=parsed).to_disk(path)
    items = []
    titles = [r["title"] or "" for r in rows]
    for row, doc, title in zip(rows, parsed, nlp.pipe(titles), strict=True):
        cands = candidates(doc, row["text"])
        sentences = [s.text.strip() for s in doc.sents if s.text.strip()]
        items.append(
            Item(
                ranked=prepare(cands, term_list(title[:]) if row["title"] else []),
                sentences=sentences,
                references=row["references"],
                ref_count=reference_sentence_count(sentences, row["references"][0]),
            )
        )
    return items


def _f1(mine: Counter[Any], theirs: Counter[Any]) -> float:
    """F1 of clipped n-gram overlap, as ROUGE-N computes it."""
    hit = sum((mine & theirs).values())
    if not hit:
        return 0.0
    p, r = hit / sum(mine.values()), hit / sum(theirs.values())
    return 2 * p * r / (p + r)


class Scorer:
    """ROUGE F1 (best over references), cached per summary.

    ``exact`` uses ``rouge-score`` itself (ROUGE-1/2/L). The fast mode, used while
    searching, counts unigram and bigram overlaps of the same tokens (rouge-score's own
    tokenizer and stemmer), which gives the same ROUGE-1/2 F1, and skips ROUGE-L (0)."""

    def __init__(self, exact: bool = True) -> None:
        from rouge_score import rouge_scorer

        self.exact = exact
        self.rouge = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
        self.cache: dict[tuple[int, str], tuple[float, float, float]] = {}
        self.tokens: dict[str, list[str]] = {}
        self.refs: dict[int, list[tuple[Counter[str], Counter[tuple[str, str]]]]] = {}

    def _tokens(self, text: str) -> list[str]:
        if text not in self.tokens:
            self.tokens[text] = self.rouge._tokenizer.tokenize(text)
        return self.tokens[text]

    def _fast(self, item: Item, parts: list[str]) -> tuple[float, float, float]:
        if id(item) not in self.refs:
            self.refs[id(item)] = [
                (Counter(t), Counter(pairwise(t)))
                for t in (self._tokens(r) for r in item.references)
            ]
        toks = [t for part in parts for t in self._tokens(part)]  # = tokens of the joined text
        uni, bi = Counter(toks), Counter(pairwise(toks))
        best = [0.0, 0.0]
        for ref_uni, ref_bi in self.refs[id(item)]:
            best[0] = max(best[0], _f1(uni, ref_uni))
            best[1] = max(best[1], _f1(bi, ref_bi))
        return best[0], best[1], 0.0

    def score(self, item: Item, parts: list[str]) -> tuple[float, float, float]:
        """ROUGE of the summary made of the sentences ``parts``."""
        summary = " ".join(parts)
        key = (id(item), summary)
        if key not in self.cache:
            if not self.exact:
                self.cache[key] = self._fast(item, parts)
                return self.cache[key]
            best = [0.0, 0.0, 0.0]
            for ref in item.references:
                result = self.rouge.score(ref, summary)
                for k, metric in enumerate(("rouge1", "rouge2", "rougeL")):
                    best[k] = max(best[k], result[metric].fmeasure)
            self.cache[key] = (best[0], best[1], best[2])
        return self.cache[key]


def run(
    sets: dict[str, list[Item]], weights: Weights, scorer: Scorer, method: str = "copydesk"
) -> dict[str, tuple[float, float, float]]:
    """Mean ROUGE per evaluation (``cnndm@3``, ``bbc@3``, ``bbc@ref``)."""
    out: dict[str, tuple[float, float, float]] = {}
    for name, items in sets.items():
        for length in ("3", "ref") if name == "bbc" else ("3",):
            values = []
            for item in items:
                count = 3 if length == "3" else item.ref_count
                if method == "lead":
                    parts = item.sentences[:count]
                else:
                    picked = select(item.ranked, weights, sentences=count)
                    parts = [c.text for c, _ in picked]
                values.append(scorer.score(item, parts))
            mean = np.mean(np.array(values), axis=0)
            out[f"{name}@{length}"] = (float(mean[0]), float(mean[1]), float(mean[2]))
    return out


Result = dict[str, tuple[float, float, float]]


def objective(result: Result, lead: Result) -> float:
    """Mean plus smallest relative gain over lead-N of (ROUGE-1 + ROUGE-2) / 2."""
    gains = []
    for key, (r1, r2, _) in result.items():
        base = (lead[key][0] + lead[key][1]) / 2
        gains.append(((r1 + r2) / 2 - base) / base)
    return float(np.mean(gains) + min(gains))


def sample(sets: dict[str, list[Item]], start: Weights, trials: int, seed: int,
           scorer: Scorer) -> Weights:
    """Random search: each weight drawn from its grid; the best of ``trials`` draws."""
    rng = np.random.default_rng(seed)
    lead = run(sets, start, scorer, "lead")
    best, best_value = start, objective(run(sets, start, scorer), lead)
    print(f"start {best_value:.4f}", flush=True)
    for trial_no in range(trials):
        draw = {name: grid[int(rng.integers(len(grid)))] for name, grid in GRID.items()}
        trial = Weights.model_validate(draw)
        got = objective(run(sets, trial, scorer), lead)
        if got > best_value:
            best, best_value = trial, got
            print(f"draw {trial_no}: {got:.4f} {json.dumps(draw)}", flush=True)
    return best


def search(sets: dict[str, list[Item]], start: Weights, rounds: int, scorer: Scorer) -> Weights:
    """Coordinate search from ``start``: one weight at a time over its grid."""
    lead = run(sets, start, scorer, "lead")
    best = start
    best_value = objective(run(sets, best, scorer), lead)
    print(f"start {best_value:.4f}", flush=True)
    for round_no in range(rounds):
        changed = False
        for name, grid in GRID.items():
            for value in grid:
                trial = best.model_copy(update={name: value})
                if trial == best:
                    continue
                got = objective(run(sets, trial, scorer), lead)
                if got > best_value + 1e-4:
                    best, best_value, changed = trial, got, True
                    print(f"round {round_no}: {name}={value} -> {got:.4f}", flush=True)
        if not changed:
            break
    return best


def report(label: str, sets: dict[str, list[Item]], weights: Weights, scorer: Scorer) -> None:
    lead = run(sets, weights, scorer, "lead")
    for method in ("lead", "copydesk"):
        result = run(sets, weights, scorer, method)
        cells = "  ".join(f"{k} {r1:.4f}/{r2:.4f}/{rl:.4f}" for k, (r1, r2, rl) in result.items())
        print(f"{label:5} {method:9} obj {objective(result, lead):+.4f}  {cells}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=None, help="keep parses here")
    parser.add_argument("--weights", type=str, default=None, help="JSON weights to start from")
    parser.add_argument("--random", type=int, default=0, help="random draws before the search")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-search", action="store_true", help="only report")
    args = parser.parse_args(argv)

    halves: dict[str, dict[str, list[Item]]] = {
        half: {name: build_items(name, half, args.limit, args.cache) for name in ("cnndm", "bbc")}
        for half in ("dev", "test")
    }
    start = Weights.model_validate(json.loads(args.weights)) if args.weights else Weights()
    fast = Scorer(exact=False)
    if args.random:
        start = sample(halves["dev"], start, args.random, args.seed, fast)
    tuned = start if args.no_search else search(halves["dev"], start, args.rounds, fast)
    scorer = Scorer()
    print("weights:", json.dumps(tuned.model_dump()))
    for half, sets in halves.items():
        report(half, sets, tuned, scorer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
