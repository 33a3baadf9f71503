"""The rules of the entities stage, loaded from data: word classes and entity patterns.

``stoplists.toml`` holds word classes the small model mistakes for names (sentence
adverbs, time zones, title words, web-page furniture) and the words that tell what a
name stands for from its context (sports reports, clubs, venues, companies, towns);
``patterns.jsonl`` holds entity-ruler patterns (well-known places, "title + proper
nouns" as a person). Users add their own through the stage config.

Patterns use spaCy's entity-ruler format, one JSON object a line, such as
``{"label": "GPE", "pattern": "Kyiv", "id": "Kyiv"}``, with a string (matched on the
exact words, or on the same words in ALL CAPS as in headlines) or a list of
token-attribute dicts (spaCy ``Matcher`` syntax). The optional ``id`` becomes the
canonical name of every mention the pattern matches; the optional ``kind`` says what
sort of name it is (``"country"``: a country keeps its place label where a town's name
would be read as its sports club).

Patterns never touch the shared spaCy pipeline: they run as a ``Matcher`` and a
``PhraseMatcher`` over the shared parse, and the stage merges their spans itself.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc as SpacyDoc

HERE = Path(__file__).parent
BUILTIN_PATTERNS = HERE / "patterns.jsonl"
BUILTIN_STOPLISTS = HERE / "stoplists.toml"

STOPLIST_KEYS = (
    "sentence_adverbs",
    "time_zones",
    "title_heads",
    "honorifics",
    "title_modifiers",
    "interface_words",
    "org_suffixes",
    "legal_forms",
    "sports_words",
    "contest_words",
    "club_nouns",
    "club_roles",
    "club_words",
    "venue_words",
    "org_nouns",
    "org_attributes",
    "place_nouns",
)


class RulesError(ValueError):
    """A pattern or stop-list file that cannot be used; the message names file and line."""


def word_key(word: str) -> str:
    """Stop-list comparison key: case-insensitive, a single trailing dot ignored."""
    word = word.strip().casefold()
    return word[:-1] if word.endswith(".") and word.count(".") == 1 else word


@dataclass
class StopLists:
    """Word classes, as sets of comparison keys (see ``word_key``)."""

    sentence_adverbs: set[str] = field(default_factory=set)
    time_zones: set[str] = field(default_factory=set)
    title_heads: set[str] = field(default_factory=set)
    honorifics: set[str] = field(default_factory=set)
    title_modifiers: set[str] = field(default_factory=set)
    interface_words: set[str] = field(default_factory=set)
    org_suffixes: set[str] = field(default_factory=set)
    legal_forms: set[str] = field(default_factory=set)
    sports_words: set[str] = field(default_factory=set)
    contest_words: set[str] = field(default_factory=set)
    club_nouns: set[str] = field(default_factory=set)
    club_roles: set[str] = field(default_factory=set)
    club_words: set[str] = field(default_factory=set)
    venue_words: set[str] = field(default_factory=set)
    org_nouns: set[str] = field(default_factory=set)
    org_attributes: set[str] = field(default_factory=set)
    place_nouns: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, paths: Iterable[Path]) -> StopLists:
        """Merge the lists of several TOML files (later files add words)."""
        lists = cls()
        for path in paths:
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise RulesError(f"stop-list file {path}: {exc}") from None
            unknown = set(data) - set(STOPLIST_KEYS)
            if unknown:
                raise RulesError(
                    f"stop-list file {path}: unknown keys {sorted(unknown)}; "
                    f"known: {', '.join(STOPLIST_KEYS)}"
                )
            for key, words in data.items():
                if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
                    raise RulesError(f"stop-list file {path}: {key} must be a list of strings")
                getattr(lists, key).update(word_key(w) for w in words)
        return lists

    @cached_property
    def titles(self) -> frozenset[str]:
        """Every title word (heads, honorifics, modifiers), joined on first use rather than
        on every ``is_title_word`` call: the lists do not change after ``load``."""
        return frozenset(self.title_heads | self.honorifics | self.title_modifiers)

    def is_title_word(self, word: str) -> bool:
        return word_key(word) in self.titles


def country_names(patterns: Iterable[Pattern]) -> frozenset[str]:
    """The comparison keys of every phrase and id of the patterns of ``kind`` "country"."""
    names: set[str] = set()
    for pattern in patterns:
        if pattern.kind == "country" and isinstance(pattern.pattern, str):
            names.add(word_key(pattern.pattern))
            if pattern.id:
                names.add(word_key(pattern.id))
    return frozenset(names)


@dataclass(frozen=True)
class Pattern:
    """One entity-ruler pattern."""

    label: str
    pattern: str | list[dict[str, Any]]
    id: str | None
    source: str  # "builtin" or "user"
    where: str  # file:line, for messages
    kind: str | None = None  # "country", or None


def load_patterns(path: Path, source: str) -> list[Pattern]:
    """Read an entity-ruler JSONL file; a malformed line is an error naming the line."""
    patterns: list[Pattern] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise RulesError(f"pattern file {path}: {exc}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise RulesError(f"{where}: not valid JSON ({exc})") from None
        if not isinstance(record, dict):
            raise RulesError(f"{where}: each line must be a JSON object")
        label, pattern, pid = record.get("label"), record.get("pattern"), record.get("id")
        if not isinstance(label, str) or not label:
            raise RulesError(f"{where}: 'label' must be a non-empty string")
        string_ok = isinstance(pattern, str) and pattern.strip() != ""
        tokens_ok = (
            isinstance(pattern, list) and pattern != []
            and all(isinstance(t, dict) for t in pattern)
        )
        if not (string_ok or tokens_ok):
            raise RulesError(
                f"{where}: 'pattern' must be a phrase or a list of token-attribute objects"
            )
        if pid is not None and not isinstance(pid, str):
            raise RulesError(f"{where}: 'id' must be a string")
        kind = record.get("kind")
        if kind is not None and not isinstance(kind, str):
            raise RulesError(f"{where}: 'kind' must be a string")
        patterns.append(Pattern(label, pattern, pid, source, where, kind))  # type: ignore[arg-type]
    return patterns


@dataclass(frozen=True)
class Match:
    """A pattern match over the parse, in token indices."""

    start: int
    end: int
    pattern: Pattern


class PatternMatcher:
    """Runs patterns over a parsed Doc with spaCy's Matcher and PhraseMatcher."""

    def __init__(self, nlp: Language, patterns: Sequence[Pattern]) -> None:
        from spacy.matcher import Matcher, PhraseMatcher

        self.patterns = list(patterns)
        self._token = Matcher(nlp.vocab)
        self._phrase = PhraseMatcher(nlp.vocab, attr="LOWER")
        self._phrase_words: dict[int, tuple[str, ...]] = {}
        for index, pattern in enumerate(self.patterns):
            key = f"copydesk_entities_{index}"
            if isinstance(pattern.pattern, str):
                words = nlp.make_doc(pattern.pattern)
                self._phrase.add(key, [words])
                self._phrase_words[index] = tuple(t.text for t in words)
            else:
                try:
                    self._token.add(key, [pattern.pattern], greedy="LONGEST")
                except (ValueError, KeyError, TypeError) as exc:
                    raise RulesError(f"{pattern.where}: invalid token pattern ({exc})") from None
        self._index = {nlp.vocab.strings[f"copydesk_entities_{i}"]: i
                       for i in range(len(self.patterns))}

    def __call__(self, doc: SpacyDoc) -> list[Match]:
        found: list[Match] = []
        phrase_hits = self._phrase(doc) if len(self._phrase) else []
        token_hits = self._token(doc) if len(self._token) else []
        for key, start, end in phrase_hits:
            index = self._index[key]
            words = tuple(t.text for t in doc[start:end])
            expected = self._phrase_words[index]
            headline = tuple(w.upper() for w in expected)
            if words != expected and not (words == headline and any(w.isalpha() for w in words)):
                continue
            found.append(Match(start, end, self.patterns[index]))
        for key, start, end in token_hits:
            found.append(Match(start, end, self.patterns[self._index[key]]))
        # longest first, then earliest; later sources (user) before built-in on ties
        found.sort(key=lambda m: (m.start, -(m.end - m.start), m.pattern.source != "user"))
        return found
