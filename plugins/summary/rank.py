"""Scoring and picking summary sentences: position prior plus content, then MMR novelty.

Each eligible candidate gets features, all scaled to 0..1 within the article:

- ``position``: a prior that decays with the sentence's rank among eligible sentences,
  ``1 / (1 + rank) ** position_decay`` (news puts the point first);
- ``centrality``: directed TF-IDF centrality in the spirit of PacSum (Zheng & Lapata 2019):
  similarity to the sentences *after* it (a sentence that later ones elaborate on is
  central) plus ``backward_weight`` times similarity to the ones before it;
- ``title``: TF-IDF cosine with the title (``Document.title`` or a level-1 heading);
- ``lead``: TF-IDF cosine with the first eligible sentence, the article's own headline
  when it has no title (zero for that sentence itself);
- ``textrank``: PageRank centrality over the length-favouring word-overlap graph of
  TextRank (Mihalcea & Tarau 2004); off by default (it buys BBC recall with CNN/DM
  precision, see ``bench/tune_summary.py``);
- ``signature``: the article's topic-signature terms the sentence carries (terms used
  at least twice and far more often than in English at large, per ``wordfreq``);
- ``entities``: coverage of the article's main names, each weighted by how many sentences
  mention it; ``numbers``: whether it reports figures;
- shape: paragraph opening (bonus), direct quotation, question, very long or very short
  sentence, an opening that leans on the sentence before, a pointer at a photo ("Mayor
  Ortiz (right) listened ...", a caption or caption run-in) (penalties), and length relative
  to the article's mean sentence (``length`` > 0 prefers concise sentences).

The weighted sum is the sentence's score. Sentences are then picked greedily by maximal
marginal relevance: score minus ``redundancy`` times the highest similarity to a sentence
already picked, and a near-duplicate (similarity above ``duplicate``) is never picked.
The picks are returned in article order. Everything is plain numpy and deterministic:
ties go to the earlier sentence.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from copydesk.plugins.summary.features import Candidate
from pydantic import BaseModel, ConfigDict, Field


class Weights(BaseModel):
    """How much each feature counts; the defaults were tuned on half of the eval sets."""

    model_config = ConfigDict(extra="forbid")

    position: float = 2.0
    position_decay: float = Field(default=0.75, ge=0.0)
    centrality: float = 0.0
    backward_weight: float = 0.25
    title: float = 0.8
    lead: float = 0.3
    signature: float = 0.15
    textrank: float = 0.0
    entities: float = 0.3
    numbers: float = 0.0
    paragraph_start: float = 0.1
    quoted: float = 0.1
    question: float = 0.15
    dangling: float = 0.0
    pictured: float = 0.5
    length: float = 0.2
    long_words: int = Field(default=45, ge=10)
    long: float = 0.3
    short_words: int = Field(default=12, ge=1)
    short: float = 0.2
    redundancy: float = Field(default=1.0, ge=0.0)
    duplicate: float = Field(default=0.5, gt=0.0, le=1.0)


@dataclass
class Ranked:
    """The eligible candidates of one article with their features and similarities."""

    candidates: list[Candidate]
    features: dict[str, np.ndarray]
    similarity: np.ndarray

    def __len__(self) -> int:
        return len(self.candidates)


def tfidf(docs: Sequence[Sequence[str]]) -> tuple[np.ndarray, dict[str, int], np.ndarray]:
    """L2-normalised TF-IDF rows for term lists (sublinear tf, smoothed idf), the
    vocabulary and the idf vector."""
    vocab: dict[str, int] = {}
    for terms in docs:
        for term in terms:
            vocab.setdefault(term, len(vocab))
    matrix = np.zeros((len(docs), max(len(vocab), 1)))
    for row, terms in enumerate(docs):
        for term, count in Counter(terms).items():
            matrix[row, vocab[term]] = 1.0 + math.log(count)
    df = (matrix > 0).sum(axis=0)
    idf = np.log((1.0 + len(docs)) / (1.0 + df)) + 1.0
    matrix *= idf
    return _normalise_rows(matrix), vocab, idf


def textrank_scores(chosen: Sequence[Candidate], damping: float = 0.85) -> np.ndarray:
    """PageRank over the sentence graph of Mihalcea & Tarau (2004): edges weighted by the
    terms two sentences share, divided by the sum of the logs of their lengths (which
    favours long, content-rich sentences), by numpy power iteration."""
    n = len(chosen)
    if n == 0:
        return np.zeros(0)
    sets = [set(c.terms) for c in chosen]
    logs = [math.log(max(len(c.terms), 2)) for c in chosen]
    graph = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            shared = len(sets[i] & sets[j])
            if shared:
                graph[i, j] = graph[j, i] = shared / (logs[i] + logs[j])
    out = graph.sum(axis=1, keepdims=True)
    out[out == 0] = 1.0
    walk = (graph / out).T
    rank = np.full(n, 1.0 / n)
    for _ in range(50):
        updated = (1 - damping) / n + damping * walk @ rank
        if np.abs(updated - rank).sum() < 1e-9:
            rank = updated
            break
        rank = updated
    return rank


def signature_scores(chosen: Sequence[Candidate]) -> np.ndarray:
    """How much of the article's *topic signature* each sentence carries: terms used at
    least twice and far more often here than in English at large (background frequencies
    from ``wordfreq``), each weighted by the log10 of that ratio (after Lin & Hovy 2000)."""
    counts: Counter[str] = Counter(t for c in chosen for t in c.terms)
    total = sum(counts.values())
    weight: dict[str, float] = {}
    for term, count in counts.items():
        if count < 2:
            continue
        ratio = math.log10(count / total) + 9.0 - background_zipf(term)
        if ratio > 0:
            weight[term] = ratio
    return np.array([sum(weight.get(t, 0.0) for t in set(c.terms)) for c in chosen],
                    dtype=float)


@lru_cache(maxsize=100_000)
def background_zipf(term: str) -> float:
    """Zipf frequency of ``term`` in English (log10 per billion words; 0 when unseen)."""
    from wordfreq import zipf_frequency

    return float(zipf_frequency(term, "en"))


def _normalise_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms


def _scale(values: np.ndarray) -> np.ndarray:
    """Scale to 0..1 by the maximum (all zeros stay zeros)."""
    top = float(values.max()) if values.size else 0.0
    return values / top if top > 0 else np.zeros_like(values)


def prepare(candidates: Sequence[Candidate], title_terms: Sequence[str] = (),
            textrank: bool = True) -> Ranked:
    """Features and the sentence-similarity matrix of the eligible candidates
    (``textrank=False``: that feature is zeros, for a weight of 0)."""
    chosen = [c for c in candidates if c.eligible]
    n = len(chosen)
    rows, vocab, idf = tfidf([c.terms for c in chosen])
    sim = rows @ rows.T if n else np.zeros((0, 0))
    np.fill_diagonal(sim, 0.0)
    upper = np.triu(sim, k=1).sum(axis=1)  # similarity to later sentences
    lower = np.tril(sim, k=-1).sum(axis=1)  # similarity to earlier sentences

    title = np.zeros(n)
    known = [vocab[t] for t in title_terms if t in vocab]
    if known and n:
        query = np.zeros(rows.shape[1])
        for col in known:
            query[col] += idf[col]
        query /= np.linalg.norm(query)
        title = rows @ query

    counts: Counter[str] = Counter()
    for c in chosen:
        counts.update(c.entities)
    entity = np.array([sum(counts[e] for e in c.entities if counts[e] > 1) for c in chosen],
                      dtype=float)

    features = {
        "signature": _scale(signature_scores(chosen)),
        "textrank": _scale(textrank_scores(chosen)) if textrank else np.zeros(n),
        "rank": np.arange(n, dtype=float),
        "forward": upper,
        "backward": lower,
        "title": title,
        "lead": sim[:, 0] if n else np.zeros(0),
        "entities": _scale(np.sqrt(entity)),
        "numbers": np.array([min(c.numbers, 2) / 2 for c in chosen], dtype=float),
        "paragraph_start": np.array([c.paragraph_start for c in chosen], dtype=float),
        "quoted": np.array([c.quoted for c in chosen], dtype=float),
        "question": np.array([c.question for c in chosen], dtype=float),
        "dangling": np.array([c.dangling for c in chosen], dtype=float),
        "pictured": np.array([c.pictured for c in chosen], dtype=float),
        "words": np.array([c.words for c in chosen], dtype=float),
    }
    return Ranked(chosen, features, sim)


def scores(ranked: Ranked, weights: Weights) -> np.ndarray:
    """The weighted score of every eligible candidate."""
    f = ranked.features
    if not len(ranked):
        return np.zeros(0)
    position = 1.0 / (1.0 + f["rank"]) ** weights.position_decay
    centrality = _scale(np.maximum(f["forward"] + weights.backward_weight * f["backward"], 0))
    words = f["words"]
    relative = np.clip(words / max(float(words.mean()), 1.0) - 1.0, -1.0, 2.0)
    long = np.clip((words - weights.long_words) / weights.long_words, 0.0, 1.0)
    short = np.clip((weights.short_words - words) / weights.short_words, 0.0, 1.0)
    total = (
        weights.position * position
        + weights.centrality * centrality
        + weights.title * _scale(f["title"])
        + weights.lead * _scale(f["lead"])
        + weights.signature * f["signature"]
        + weights.textrank * f["textrank"]
        + weights.entities * f["entities"]
        + weights.numbers * f["numbers"]
        + weights.paragraph_start * f["paragraph_start"]
        - weights.quoted * f["quoted"]
        - weights.question * f["question"]
        - weights.dangling * f["dangling"]
        - weights.pictured * f["pictured"]
        - weights.length * relative
        - weights.long * long
        - weights.short * short
    )
    return np.asarray(total, dtype=float)


def select(
    ranked: Ranked,
    weights: Weights,
    sentences: int | None = None,
    max_words: int | None = None,
) -> list[tuple[Candidate, float]]:
    """Pick by MMR until ``sentences`` are chosen or ``max_words`` would be exceeded (at
    least one sentence is always picked); return ``(candidate, score)`` in article order."""
    score = scores(ranked, weights)
    n = len(ranked)
    limit = n if sentences is None else min(sentences, n)
    overlap = np.zeros(n)  # highest similarity to a sentence already picked
    open_ = np.ones(n, dtype=bool)
    picked: list[int] = []
    used_words = 0
    while len(picked) < limit:
        value = score - weights.redundancy * overlap
        value[~open_ | (overlap >= weights.duplicate)] = -np.inf
        best = int(np.argmax(value)) if n else 0  # the first maximum: earlier sentence wins
        if not n or value[best] == -np.inf:
            break
        open_[best] = False
        words = ranked.candidates[best].words
        if max_words is not None and picked and used_words + words > max_words:
            continue
        picked.append(best)
        used_words += words
        overlap = np.maximum(overlap, ranked.similarity[best])
    return [(ranked.candidates[i], round(float(score[i]), 4)) for i in sorted(picked)]
