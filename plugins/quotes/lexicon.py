"""The word lists of the quotes stage, loaded from ``cues.toml`` (data, not code).

Speech verbs, belief verbs, verb + preposition cues, "according to"-style phrases,
titles, and the words and given names that hint at a person's grammatical gender.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

MALE = "male"
FEMALE = "female"


@dataclass(frozen=True)
class Lexicon:
    """Everything the attribution rules look words up in."""

    speech_verbs: frozenset[str]
    cognition_verbs: frozenset[str]
    infinitive_verbs: frozenset[str]
    parataxis_verbs: frozenset[str]
    naming_verbs: frozenset[str]
    object_verbs: frozenset[str]
    evidence_verbs: frozenset[str]
    neg_raising_verbs: frozenset[str]
    colon_labels: frozenset[str]
    speech_nouns: frozenset[str]
    source_nouns: frozenset[str]
    group_nouns: frozenset[str]
    infinitive_nouns: frozenset[str]
    prepositional: dict[str, frozenset[str]]
    noun_prepositional: dict[str, frozenset[str]]
    according_phrases: tuple[tuple[str, ...], ...]
    titles: frozenset[str]
    title_phrases: tuple[tuple[str, ...], ...]
    male_words: frozenset[str]
    female_words: frozenset[str]
    male_pronouns: frozenset[str]
    female_pronouns: frozenset[str]
    male_names: frozenset[str]
    female_names: frozenset[str]

    def is_speech_verb(self, lemma: str) -> bool:
        return lemma.lower() in self.speech_verbs

    def is_reporting_verb(self, lemma: str) -> bool:
        low = lemma.lower()
        return low in self.speech_verbs or low in self.cognition_verbs

    def is_title(self, word: str) -> bool:
        return word.lower() in self.titles

    def is_title_word(self, word: str) -> bool:
        """A title as written, with or without an abbreviation's full stop ("Sen.")."""
        return self.is_title(word) or self.is_title(word.rstrip("."))

    def gender_of_word(self, word: str) -> str | None:
        low = word.lower()
        if low in self.male_words or low in self.male_pronouns:
            return MALE
        if low in self.female_words or low in self.female_pronouns:
            return FEMALE
        return None

    def gender_of_name(self, given: str) -> str | None:
        low = given.lower()
        male, female = low in self.male_names, low in self.female_names
        if male and not female:
            return MALE
        if female and not male:
            return FEMALE
        return None


def _words(data: dict[str, Any], *keys: str) -> frozenset[str]:
    """The word list at ``data[keys[0]][keys[1]]…``, lower-cased (empty when missing)."""
    node: Any = data
    for key in keys:
        node = node.get(key, {})
    return frozenset(str(w).lower() for w in (node or []))


def _table(data: dict[str, Any], key: str) -> dict[str, frozenset[str]]:
    """A ``word = [prepositions]`` table, lower-cased."""
    return {
        str(word).lower(): frozenset(str(p).lower() for p in preps)
        for word, preps in data.get(key, {}).items()
    }


def _build(data: dict[str, Any]) -> Lexicon:
    titles = [str(t).lower() for t in data.get("titles", {}).get("words", [])]
    phrases = data.get("phrases", {}).get("according_to", [])
    return Lexicon(
        speech_verbs=_words(data, "verbs", "speech"),
        cognition_verbs=_words(data, "verbs", "cognition"),
        infinitive_verbs=_words(data, "verbs", "infinitive"),
        parataxis_verbs=_words(data, "verbs", "parataxis"),
        naming_verbs=_words(data, "verbs", "naming"),
        object_verbs=_words(data, "verbs", "object"),
        evidence_verbs=_words(data, "verbs", "evidence"),
        neg_raising_verbs=_words(data, "verbs", "neg_raising"),
        colon_labels=_words(data, "colon", "not_sources"),
        speech_nouns=_words(data, "nouns", "speech"),
        source_nouns=_words(data, "nouns", "sources"),
        group_nouns=_words(data, "nouns", "groups"),
        infinitive_nouns=_words(data, "nouns", "infinitive"),
        prepositional=_table(data, "prepositional"),
        noun_prepositional=_table(data, "noun_prepositional"),
        according_phrases=tuple(tuple(str(p).lower().split()) for p in phrases),
        titles=frozenset(t for t in titles if " " not in t),
        title_phrases=tuple(tuple(t.split()) for t in titles if " " in t),
        male_words=_words(data, "gender", "male_words"),
        female_words=_words(data, "gender", "female_words"),
        male_pronouns=_words(data, "gender", "male_pronouns"),
        female_pronouns=_words(data, "gender", "female_pronouns"),
        male_names=_words(data, "gender", "male_names"),
        female_names=_words(data, "gender", "female_names"),
    )


@lru_cache(maxsize=8)
def load_lexicon(path: str | None = None) -> Lexicon:
    """The lexicon from ``path``, or the ``cues.toml`` shipped with the plugin."""
    if path:
        raw = Path(path).read_text(encoding="utf-8")
    else:
        raw = Path(__file__).with_name("cues.toml").read_text(encoding="utf-8")
    return _build(tomllib.loads(raw))
