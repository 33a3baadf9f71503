"""Checks on entity spans over the shared parse: trimming, noise and label corrections.

Each check is general: it looks at the span's shape, its part-of-speech tags, its
syntactic context or at word classes from ``stoplists.toml``, never at particular
names. Spans are token ranges ``[start, end)`` of the spaCy ``Doc``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from copydesk.plugins.entities.rules import StopLists, word_key

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc as SpacyDoc
    from spacy.tokens import Token

#: Labels that name things (as opposed to dates, times and quantities).
NAME_LABELS = ("PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT",
               "WORK_OF_ART", "LAW", "LANGUAGE")
PLACE_LABELS = frozenset({"GPE", "LOC", "FAC"})
#: Labels whose one-word mentions must be proper nouns ("Women", "Attendance" are not).
_COMMON_NOUN_LABELS = frozenset({"PERSON", "GPE", "LOC"})

_ARTICLES = frozenset({"the", "a", "an"})
_NOT_NAME_START = frozenset({"VERB", "AUX", "ADP", "ADV", "SCONJ", "CCONJ", "PRON", "PART",
                             "INTJ"})
_CONTENT = frozenset({"NOUN", "VERB", "ADJ", "ADV"})
_DASHES = frozenset({"-", "–", "—", "--"})
_POSSESSIVES = frozenset({"'s", "’s", "'", "’"})
_OPENERS = frozenset("([{\"“‘'«")
_CLOSERS = frozenset(")]}\"”’'»,;:!?.")
#: A score or a result: "3-1", "108-7" (two numbers joined by a hyphen).
_SCORE = re.compile(r"\d{1,3}-\d{1,3}")
#: Labels whose names may end in such a pair ("a 747-400", "Resolution 242-338").
NUMBERED_LABELS = frozenset({"PRODUCT", "WORK_OF_ART", "LAW", "EVENT"})


@dataclass
class Lexicon:
    """English word classes from the loaded pipeline's lemmatizer tables (WordNet's index
    of adverbs, verbs and nouns): "is this a dictionary word?" without a word list of
    our own. Empty when the pipeline has no rule lemmatizer; the checks then rely on the
    stop lists alone."""

    adverbs: frozenset[str] = frozenset()
    verbs: frozenset[str] = frozenset()
    nouns: frozenset[str] = frozenset()

    @classmethod
    def from_nlp(cls, nlp: Language) -> Lexicon:
        try:
            lemmatizer: Any = nlp.get_pipe("lemmatizer")
            table = lemmatizer.lookups.get_table("lemma_index")
            return cls(adverbs=frozenset(table["adv"]), verbs=frozenset(table["verb"]),
                       nouns=frozenset(table["noun"]))
        except (KeyError, AttributeError, ValueError):
            return cls()


def trim(
    doc: SpacyDoc, start: int, end: int, label: str, stops: StopLists
) -> tuple[int, int] | None:
    """The span without surrounding space, punctuation, a lowercase article, a trailing
    possessive and (for people) leading titles; None when nothing name-like remains or
    the span runs across a line break."""
    def strippable_edge(token: Token, edge_chars: frozenset[str]) -> bool:
        return token.is_space or (token.is_punct and token.text in edge_chars) or (
            token.is_punct and len(token.text) == 1 and token.text in "—–-·•*|/"
        )

    while start < end and strippable_edge(doc[start], _OPENERS):
        start += 1
    while start < end and (strippable_edge(doc[end - 1], _CLOSERS)
                           or doc[end - 1].text in _POSSESSIVES):
        end -= 1
    if start < end - 1 and (
        doc[start].text in _ARTICLES or (doc[start].text == "The" and doc[start].is_sent_start)
    ):
        start += 1
    while start < end - 1 and doc[start].pos_ in _NOT_NAME_START and (
        doc[start].is_sent_start or doc[start].is_lower
    ):
        start += 1  # "Following Ms Marsh": a verb or preposition opening the sentence
    while start < end - 1 and doc[end - 1].is_lower and doc[end - 1].pos_ in _CONTENT:
        end -= 1  # "Novosti news agency": a description after the name
    while start < end - 1 and (
        (_SCORE.fullmatch(doc[end - 1].text) and doc[end - 2].whitespace_
         and label not in NUMBERED_LABELS)
        or (doc[end - 1].is_digit
            and (label == "PERSON" or (label in ("ORG", "GPE") and len(doc[end - 1].text) >= 3)))
    ):
        end -= 1  # "Harwick 112", "Harwick 3-1": a score glued to a name ("Channel 4" stays)
    while (start < end - 3 and label not in NUMBERED_LABELS and doc[end - 1].is_digit
           and doc[end - 2].text == "-" and doc[end - 3].is_digit
           and len(doc[end - 1]) <= 3 and len(doc[end - 3]) <= 3 and doc[end - 4].whitespace_
           and not doc[end - 3].whitespace_ and not doc[end - 2].whitespace_):
        end -= 3  # the same score split by the tokenizer into "3", "-", "1"
    if label == "PERSON":
        while start < end - 1 and stops.is_title_word(doc[start].text):
            start += 1
    if start >= end:
        return None
    if any("\n" in t.text or "\n" in t.whitespace_ for t in doc[start : end - 1]):
        return None
    if any(t.text in _DASHES and t.whitespace_ and doc[t.i - 1].whitespace_
           for t in doc[start + 1 : end - 1]):
        return None  # "Norway - Per Lunde": a spaced dash separates two things
    return start, end


def noise_reason(
    doc: SpacyDoc, start: int, end: int, label: str, stops: StopLists,
    lexicon: Lexicon | None = None,
) -> str | None:
    """Why the span is not a name (a short reason), or None when it may be one. Labels
    that are not names (DATE, MONEY… when configured) are not judged."""
    if label not in NAME_LABELS:
        return None
    tokens = list(doc[start:end])
    text = doc[start:end].text
    if not any(ch.isalpha() for ch in text):
        return "no letters"
    if not any(t.text[:1].isupper() or t.text[:1].isdigit() for t in tokens):
        return "not capitalised"
    keys = [word_key(t.text) for t in tokens if not t.is_punct]
    whole = word_key(text)
    if whole in stops.time_zones:
        return "time zone"
    if whole in stops.interface_words or (keys and all(k in stops.interface_words for k in keys)):
        return "page furniture"
    if len(tokens) == 1:
        token = tokens[0]
        if whole in stops.sentence_adverbs:
            return "sentence adverb"
        following = doc[token.i + 1] if token.i + 1 < len(doc) else None
        if (lexicon is not None and token.pos_ == "ADV" and token.is_sent_start
                and following is not None and following.text == ","
                and token.lower_ in lexicon.adverbs):
            return "sentence adverb"
    if (len(tokens) == 1 and label in _COMMON_NOUN_LABELS and tokens[0].tag_ in ("NN", "NNS")
            and not tokens[0].is_upper):
        return "common noun"
    if keys and all(k in stops.titles for k in keys):
        following = doc[end] if end < len(doc) else None
        if following is not None and (
            stops.is_title_word(following.text)
            or (following.pos_ == "PROPN" and following.text[:1].isupper())
        ):
            return "title word"
    if label == "PERSON" and lexicon is not None and any(
        t.tag_.startswith("VB") and t.lower_ in lexicon.verbs for t in tokens[1:]
    ):
        return "verb in a name"
    return None


def _root(doc: SpacyDoc, start: int, end: int) -> Token:
    return doc[start:end].root


def conjunct_label(
    doc: SpacyDoc, start: int, end: int, labels_at: dict[int, str]
) -> str | None:
    """The label of a place the span is coordinated with ("Neither Moscow nor Kyiv"),
    when the span's head is a conjunct of a place's head; else None."""
    root = _root(doc, start, end)
    linked: list[Token] = []
    if root.dep_ == "conj":
        linked.append(root.head)
    linked.extend(child for child in root.children if child.dep_ == "conj")
    for other in linked:
        label = labels_at.get(other.i)
        if label in PLACE_LABELS:
            return label
    return None


def definite_place(doc: SpacyDoc, start: int, end: int) -> bool:
    """True when a one-word 'person' heads a noun phrase with "the" ("on the Bosphorus"):
    English names of people take no article; names of seas, straits and rivers do."""
    if end - start != 1 or start == 0:
        return False
    root = doc[start]
    if root.tag_ == "NNPS" or root.dep_ in ("compound", "poss", "amod", "nmod"):
        return False  # "the Clintons", "the Clinton administration"
    before = doc[start - 1]
    return before.text == "the" and before.dep_ == "det" and before.head.i == root.i
