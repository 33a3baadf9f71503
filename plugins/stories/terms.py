"""The weighted terms of an article: what the stories stage compares articles by.

Three kinds of term, each weighted by how much it tells one event from another:

- words: content lemmas of the text (nouns, verbs, adjectives, names, numbers), with a
  sublinear count, weighted by how rare the word is in general English (wordfreq's Zipf
  scale, the same table the summary stage reads), so the weights do not depend on which
  articles a process has seen (order and worker count cannot change them);
- entities: each named entity's canonical name as one term (``e:...``), which keeps
  "North Korea" apart from "South Korea" where the words alone overlap;
- dates: each calendar day the article names (``d:YYYY-MM-DD``), from the numbers stage.

Words of the title and of the opening sentences count more: news puts the event first.
The vector is L2-normalised and cut to its heaviest terms, so an article's stored form and
the cost of comparing two articles are bounded whatever the length of the text.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from wordfreq import zipf_frequency

#: Parts of speech whose lemmas carry an event's content.
CONTENT_POS = frozenset({"NOUN", "PROPN", "VERB", "ADJ", "NUM"})
#: Entity labels that name who, where and what (not quantities, which the numbers give).
NAME_LABELS = frozenset(
    {"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW"}
)
#: Zipf frequency of the most frequent words ("the" is about 7.7); rarity is the distance
#: below it.
_ZIPF_TOP = 8.0


@dataclass(frozen=True)
class TermWeights:
    """How the kinds of term are weighted against each other."""

    lead_boost: float = 2.0
    lead_sentences: int = 2
    entity_weight: float = 1.5
    date_weight: float = 1.0
    max_terms: int = 64


@lru_cache(maxsize=200_000)
def rarity(word: str) -> float:
    """How rare ``word`` is in general English: 0 for the commonest, about 8 for words the
    frequency table does not know."""
    return max(0.5, _ZIPF_TOP - zipf_frequency(word, "en"))


@dataclass(frozen=True)
class Token:
    """One word of the text as the terms need it."""

    lemma: str
    pos: str
    sentence: int
    stop: bool


def word_counts(tokens: Iterable[Token], weights: TermWeights) -> Counter[str]:
    """Counts of content lemmas, those of the lead sentences counted ``lead_boost`` times."""
    counts: Counter[str] = Counter()
    for tok in tokens:
        if tok.stop or tok.pos not in CONTENT_POS:
            continue
        lemma = tok.lemma.lower().strip()
        if len(lemma) < 2 or not any(ch.isalnum() for ch in lemma):
            continue
        counts[lemma] += weights.lead_boost if tok.sentence < weights.lead_sentences else 1.0
    return counts


def term_vector(
    words: Counter[str],
    entities: Sequence[str],
    dates: Sequence[str],
    weights: TermWeights,
) -> dict[str, float]:
    """The article's unit-length vector of its ``max_terms`` heaviest terms."""
    raw: dict[str, float] = {}
    for word, count in words.items():
        raw[word] = (1.0 + math.log(count)) * rarity(word)
    for name, count in Counter(n.lower() for n in entities).items():
        parts = name.split()
        if not parts:
            continue
        weight = max(rarity(p) for p in parts) * weights.entity_weight
        raw["e:" + name] = (1.0 + math.log(count)) * weight
    for day, count in Counter(dates).items():
        raw["d:" + day] = (1.0 + math.log(count)) * _ZIPF_TOP * weights.date_weight
    top = sorted(raw.items(), key=lambda kv: (-kv[1], kv[0]))[: weights.max_terms]
    norm = math.sqrt(sum(w * w for _, w in top)) or 1.0
    return {term: w / norm for term, w in top}


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    """Cosine of two unit vectors (the dot product over their shared terms)."""
    if len(b) < len(a):
        a, b = b, a
    return sum(w * b[t] for t, w in a.items() if t in b)
