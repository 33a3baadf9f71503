"""The weighted terms of an article: what the stories stage compares articles by.

Three kinds of term, each weighted by how much it tells one event from another:

- words: the text's words less stop words and bare numbers, plurals folded, with a
  sublinear count, weighted by how rare the word is in news: its inverse document
  frequency in a fixed table of news articles (``news_df.txt``, built by
  ``scripts/build_news_df.py``), so "said", "year" or "government" count for little. With
  ``words = "english"`` the weight is the word's rarity in general English instead
  (wordfreq's Zipf scale, the table the summary stage reads). Either table is fixed, so
  the weights do not depend on which articles a process has seen;
- entities: each named entity's canonical name as one term (``e:...``), which keeps
  "North Korea" apart from "South Korea" where the words alone overlap;
- dates: each calendar day the article names (``d:YYYY-MM-DD``), from the numbers stage.

Words of the title and of the opening sentences count more: news puts the event first.
The vector is L2-normalised and cut to its heaviest terms, so an article's stored form and
the cost of comparing two articles are bounded whatever the length of the text.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import files
from typing import Literal

from spacy.lang.en.stop_words import STOP_WORDS
from wordfreq import zipf_frequency

WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
#: A sentence ends at . ! or ? before a capital or an opening quote, or at a line break.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’']?\s+(?=[\"“‘'(]?[A-Z0-9])|\n+")
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
    entity_weight: float = 0.25
    date_weight: float = 0.5
    max_terms: int = 64
    words: Literal["news", "english"] = "news"

    def word_weight(self) -> Callable[[str], float]:
        """How much a word tells one event from another (see the module docstring)."""
        return news_idf if self.words == "news" else rarity


@lru_cache(maxsize=200_000)
def rarity(word: str) -> float:
    """How rare ``word`` is in general English: 0 for the commonest, about 8 for words the
    frequency table does not know."""
    return max(0.5, _ZIPF_TOP - zipf_frequency(word, "en"))


@cache
def _news_table() -> tuple[int, dict[str, int]]:
    """The news table: how many articles it counts, and in how many each word occurs."""
    lines = files(__package__).joinpath("news_df.txt").read_text("utf-8").splitlines()
    documents = int(lines[0].split()[-1])
    counts = {}
    for line in lines[1:]:
        word, _, count = line.rpartition(" ")
        counts[word] = int(count)
    return documents, counts


@lru_cache(maxsize=200_000)
def news_idf(word: str) -> float:
    """The inverse document frequency of a folded word in news, log((N+1)/(df+1)): about
    0.3 for a word in most articles, 7.7 for one the table has not seen."""
    documents, counts = _news_table()
    return math.log((documents + 1) / (counts.get(word, 0) + 1))


def fold(word: str) -> str | None:
    """The form a word is counted under (lower case, possessive and plural folded), or
    None for a word that says nothing of the event (stop words, bare numbers)."""
    word = word.lower().replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) < 2 or word in STOP_WORDS or word.isdigit():
        return None
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def word_counts(title: str | None, text: str, weights: TermWeights) -> dict[str, float]:
    """Counts of the folded words of the title and text, those of the title and of the
    first ``lead_sentences`` sentences counted ``lead_boost`` times."""
    counts: dict[str, float] = {}
    parts = [(title or "", True)]
    lead_end = 0
    for i, match in enumerate(_SENTENCE_END.finditer(text)):
        if i + 1 >= weights.lead_sentences:
            lead_end = match.start()
            break
    else:
        lead_end = len(text)
    if weights.lead_sentences == 0:
        lead_end = 0
    parts += [(text[:lead_end], True), (text[lead_end:], False)]
    for part, lead in parts:
        for match in WORD.finditer(part):
            form = fold(match.group())
            if form is not None:
                counts[form] = counts.get(form, 0.0) + (weights.lead_boost if lead else 1.0)
    return counts


def term_vector(
    words: dict[str, float],
    entities: Sequence[str],
    dates: Sequence[str],
    weights: TermWeights,
) -> dict[str, float]:
    """The article's unit-length vector of its ``max_terms`` heaviest terms."""
    weigh = weights.word_weight()
    raw: dict[str, float] = {}
    for word, count in words.items():
        raw[word] = (1.0 + math.log(count)) * weigh(word)
    for name, count in Counter(n.lower() for n in entities).items():
        parts = name.split()
        if not parts:
            continue
        weight = max(weigh(p) for p in parts) * weights.entity_weight
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
