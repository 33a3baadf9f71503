"""Order-independent link rules for the stories stage, scored offline on its own vectors.

A rule that decides each pair from the pair and the articles present (and only ever adds
links as articles arrive) gives a partition that is a function of the set of articles in
the window, whatever their order: computing it over the whole set at once is what the
online stage would reach. This script runs the stage once per set (``eval_stories``'s
pipeline, settings from ``--set``), takes its term vectors and scores such rules over a
grid, next to the TF-IDF offline average-linkage baseline of the same run:

- single: ``cos >= t`` (the stage's ``linkage = "single"``; reproduces its figures, a
  check that the offline computation is the online one on these sets);
- snn (shared nearest neighbours): ``cos >= t_high``, or ``cos >= t_low`` and at least
  ``k`` articles with cosine ``>= t_n`` to both;
- snn-strict: as snn, but pairs at ``t_high`` need ``k_high >= 1`` common neighbours
  too unless ``cos >= t_very_high``;
- snn-weighted: support is the sum over common neighbours of the smaller of the two
  cosines;
- split: ``cos >= t`` and the word-only cosine ``>= t_w`` and (when both name entities)
  the entity-only cosine ``>= t_e``.

For each family it prints the rule with the best worst-case margin over the two sets
(B-cubed F1 minus the offline baseline's). The dated set runs without a window (10 years),
the baselines' condition. Usage::

    python bench/stories_pair_rules.py [--set entity_weight=0.5]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import eval_stories as ev
from copydesk.plugins.stories.linking import Entry

Rule = Callable[["Space"], np.ndarray]


class Space:
    """One set: its cosine matrices (all terms, entity terms, word terms) and gold."""

    def __init__(self, entries: list[Entry], gold: list[str]) -> None:
        self.gold = np.unique(gold, return_inverse=True)[1]
        self.sim = gram(entries, lambda t: True)
        self.ent = gram(entries, lambda t: t.startswith("e:"))
        self.word = gram(entries, lambda t: not t.startswith(("e:", "d:")))
        named = np.array([any(t.startswith("e:") for t in e.vector) for e in entries])
        self.named = named[:, None] & named[None, :]
        self._support: dict[tuple[float, bool], np.ndarray] = {}

    def support(self, tn: float, weighted: bool = False) -> np.ndarray:
        """Common neighbours (cosine >= ``tn`` to both) of every pair, or the sum of the
        smaller cosine over them."""
        key = (tn, weighted)
        if key not in self._support:
            near = np.where(self.sim >= tn, self.sim, 0.0)
            if weighted:
                out = np.zeros_like(near)
                for col in near.T:
                    out += np.minimum.outer(col, col)
            else:
                flags = (near > 0).astype(float)
                out = flags @ flags.T
            self._support[key] = out
        return self._support[key]

    def f1(self, links: np.ndarray) -> float:
        return b3(components(links), self.gold)


def gram(entries: list[Entry], keep: Callable[[str], bool]) -> np.ndarray:
    """Cosines of the entries' vectors cut to the terms ``keep`` allows (re-normalised)."""
    index: dict[str, int] = {}
    for e in entries:
        for term in e.vector:
            if keep(term):
                index.setdefault(term, len(index))
    rows = np.zeros((len(entries), max(1, len(index))))
    for i, e in enumerate(entries):
        for term, w in e.vector.items():
            if keep(term):
                rows[i, index[term]] = w
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    rows = rows / np.where(norms > 0, norms, 1.0)
    out = rows @ rows.T
    np.fill_diagonal(out, 0.0)
    return out


def components(links: np.ndarray) -> np.ndarray:
    parent = list(range(links.shape[0]))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, j in zip(*np.nonzero(np.triu(links, 1)), strict=True):
        a, b = find(int(i)), find(int(j))
        parent[max(a, b)] = min(a, b)
    return np.array([find(i) for i in range(links.shape[0])])


def b3(pred: np.ndarray, gold: np.ndarray) -> float:
    same_pred = pred[:, None] == pred[None, :]
    same_gold = gold[:, None] == gold[None, :]
    both = (same_pred & same_gold).sum(1)
    p = float((both / same_pred.sum(1)).mean())
    r = float((both / same_gold.sum(1)).mean())
    return 2 * p * r / (p + r)


def steps(lo: float, hi: float, step: float) -> list[float]:
    return [round(x, 2) for x in np.arange(lo, hi, step)]


def families() -> Iterator[tuple[str, str, Rule]]:
    """(family, rule as text, rule) over the grid."""
    for t in steps(0.16, 0.46, 0.02):
        yield "single", f"t {t}", lambda s, t=t: s.sim >= t
    for th, tn in itertools.product(steps(0.26, 0.48, 0.02), steps(0.14, 0.40, 0.04)):
        for tl, k in itertools.product(steps(0.12, th, 0.02), (1, 2, 3, 4)):
            yield ("snn", f"t_high {th} t_low {tl} t_n {tn} k {k}",
                   lambda s, th=th, tl=tl, tn=tn, k=k:
                   (s.sim >= th) | ((s.sim >= tl) & (s.support(tn) >= k)))
            for w in (0.2, 0.5, 1.0):
                yield ("snn-weighted", f"t_high {th} t_low {tl} t_n {tn} sum {w}",
                       lambda s, th=th, tl=tl, tn=tn, w=w:
                       (s.sim >= th) | ((s.sim >= tl) & (s.support(tn, True) >= w)))
        for tvh, kh in itertools.product((0.4, 0.5, 0.6), (1, 2, 3)):
            yield ("snn-strict", f"t_very_high {tvh} t_high {th} k_high {kh} t_n {tn}",
                   lambda s, th=th, tn=tn, tvh=tvh, kh=kh:
                   (s.sim >= tvh) | ((s.sim >= th) & (s.support(tn) >= kh)))
    for t, te, tw in itertools.product(steps(0.16, 0.40, 0.02), (0.0, 0.1, 0.2, 0.3),
                                       (0.0, 0.1, 0.2, 0.3)):
        yield ("split", f"t {t} t_e {te} t_w {tw}",
               lambda s, t=t, te=te, tw=tw:
               (s.sim >= t) & ((s.ent >= te) | ~s.named) & (s.word >= tw))


def load(key: str, overrides: dict[str, Any]) -> tuple[Space, float]:
    """The set's space from the stage's vectors, and the offline baseline's best F1."""
    rows = ev.read_jsonl(ev.SETS[key])
    rows = ev.feed_order(rows) if key == "g5" else rows
    gold = [r["story"] for r in rows]
    articles = [ev.as_article(r, undated_lead=key == "ecb") for r in rows]
    docs, stage = ev.run_stage(articles, overrides)
    matrix = ev.tfidf([f"{a.title or ''}\n{a.text}" for a in articles])
    grid = [round(0.05 * i, 2) for i in range(1, 19)]
    _, base = ev.best_threshold(lambda t: ev.bcubed(ev.average_linkage(matrix, t), gold), grid)
    return Space([stage.entry(d) for d in docs], gold), base[2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    overrides = {k: json.loads(v) for k, _, v in (s.partition("=") for s in args.set)}
    spaces = {key: load(key, overrides) for key in ("g5", "ecb")}
    for key, (_, base) in spaces.items():
        print(f"{ev.SETS[key]}: TF-IDF offline average-linkage {base:.3f}")
    best: dict[str, tuple[float, str, dict[str, float]]] = {}
    for family, text, rule in families():
        scores = {key: space.f1(rule(space)) for key, (space, _) in spaces.items()}
        margin = min(scores[k] - spaces[k][1] for k in scores)
        if family not in best or margin > best[family][0]:
            best[family] = (margin, text, scores)
    for family, (margin, text, scores) in best.items():
        print(f"  {family:<13} margin {margin:+.3f}  g5 {scores['g5']:.3f} ecb "
              f"{scores['ecb']:.3f}  ({text})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
