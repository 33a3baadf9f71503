"""Named entities: people, places, organisations… with canonical names, from the shared parse.

The stage reads the entities spaCy's NER put on the shared parse (the model is
``settings.spacy.model``; nothing is parsed twice) and corrects the small model's
known mistakes on news with general means:

* spans are trimmed (a lowercase or sentence-initial "the", a trailing possessive,
  punctuation, an opening verb or preposition, a trailing description, titles in front
  of a person) and never cross a line break;
* spans that are not names are dropped by word class (``stoplists.toml``: sentence
  adverbs, time zones, title words, page furniture), by shape (no capital letter, a
  one-word common noun) and by part of speech (a dictionary verb inside a "person",
  a dictionary adverb opening a sentence);
* entity-ruler patterns (``patterns.jsonl``: well-known places, "title + proper nouns" is
  a person) fill gaps and correct labels where they match exactly the model's span;
* labels are corrected from context: a mention opening with an honorific ("Mr") is a
  person; a lone word that is the surname of a person named in full is that person; a
  one-word "person" coordinated with a place ("Moscow nor Kyiv") or after "the" ("the
  Bosphorus") is a place; the same words take the label most of their mentions have;
* entities inside headings (the ``headings`` layer of the cleaning stage) are dropped;
* only name labels are kept (``labels``), dates and numbers are the numbers stage's.

User patterns (``patterns_file``, the same JSONL format) are applied last and win over
everything they overlap; their labels are kept whatever ``labels`` says. The shared
spaCy pipeline is never modified: patterns run as matchers over the parse.

Config (``[stage.entities]``)::

    labels = ["PERSON", "ORG", "GPE", ...]   # labels kept from the model
    patterns_file = "my-patterns.jsonl"      # add or override entities, no code
    stoplists_file = "my-stoplists.toml"     # extra words for the word classes
    builtin_patterns = true
    skip_headings = true
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from copydesk import Document, Stage, StageConfig, hookimpl
from copydesk.document import Entity
from copydesk.nlp import primary_language
from copydesk.plugins.entities.canonical import Mention, canonicalize
from copydesk.plugins.entities.filters import (
    NAME_LABELS,
    NUMBERED_LABELS,
    PLACE_LABELS,
    Lexicon,
    conjunct_label,
    definite_place,
    noise_reason,
    trim,
)
from copydesk.plugins.entities.roles import (
    Context,
    missed_clubs,
    missed_people,
    relabel,
    split_at_scores,
    sports_document,
)
from copydesk.plugins.entities.rules import (
    BUILTIN_PATTERNS,
    BUILTIN_STOPLISTS,
    Match,
    PatternMatcher,
    RulesError,
    StopLists,
    country_names,
    load_patterns,
    word_key,
)
from pydantic import Field, field_validator

if TYPE_CHECKING:
    from spacy.tokens import Doc as SpacyDoc

__all__ = ["EntitiesConfig", "EntitiesStage", "register_stages"]

#: Labels of pipelines trained on other schemes, as the OntoNotes labels this stage keeps
#: (spaCy's French, German, Spanish… pipelines use WikiNER's PER/LOC/ORG/MISC).
MODEL_LABELS = {"PER": "PERSON"}


class EntitiesConfig(StageConfig):
    """Settings of the entities stage (``[stage.entities]``)."""

    labels: list[str] = Field(
        default_factory=lambda: list(NAME_LABELS),
        description="Labels kept from the model and the built-in patterns.",
    )
    patterns_file: Path | None = Field(
        default=None,
        description="Entity-ruler JSONL file whose matches add or override entities.",
    )
    stoplists_file: Path | None = Field(
        default=None,
        description="TOML file adding words to the word classes of stoplists.toml.",
    )
    builtin_patterns: bool = Field(default=True, description="Use patterns.jsonl.")
    skip_headings: bool = Field(default=True, description="Drop entities inside headings.")

    @field_validator("patterns_file")
    @classmethod
    def _patterns_readable(cls, value: Path | None) -> Path | None:
        if value is not None:
            try:
                load_patterns(value, "user")
            except RulesError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("stoplists_file")
    @classmethod
    def _stoplists_readable(cls, value: Path | None) -> Path | None:
        if value is not None:
            try:
                StopLists.load([value])
            except RulesError as exc:
                raise ValueError(str(exc)) from None
        return value


@dataclass
class Candidate:
    """An entity being decided on, in token indices of the shared parse."""

    start: int
    end: int
    label: str
    source: str  # "model", "builtin", "context" (label read from the words around) or "user"
    fixed: str | None = None  # canonical name from a pattern id


class SpanIndex:
    """Non-overlapping candidates with a token-to-candidate map, so finding what a new
    span overlaps costs its length, not the number of entities in the document."""

    def __init__(self, size: int, candidates: list[Candidate]) -> None:
        self.owner: list[Candidate | None] = [None] * size
        self.items: list[Candidate] = []
        for cand in candidates:
            self.add(cand)

    def add(self, cand: Candidate) -> None:
        self.items.append(cand)
        for i in range(cand.start, cand.end):
            self.owner[i] = cand

    def remove(self, cand: Candidate) -> None:
        self.items = [c for c in self.items if c is not cand]
        for i in range(cand.start, cand.end):
            if self.owner[i] is cand:
                self.owner[i] = None

    def overlapping(self, start: int, end: int) -> list[Candidate]:
        found: list[Candidate] = []
        for cand in self.owner[start:end]:
            if cand is not None and not any(cand is f for f in found):
                found.append(cand)
        return found


class EntitiesStage(Stage[EntitiesConfig]):
    """Named entities with canonical names, from the shared spaCy parse."""

    name = "entities"
    requires = ("text",)
    optional = ("headings",)
    provides = ("entities",)
    uses_parse = True
    description = "Named entities (spaCy NER + patterns + filters) with canonical names."

    def setup(self) -> None:
        stop_files = [BUILTIN_STOPLISTS]
        if self.config.stoplists_file is not None:
            stop_files.append(self.config.stoplists_file)
        self.stops = StopLists.load(stop_files)
        self._builtin = (load_patterns(BUILTIN_PATTERNS, "builtin")
                         if self.config.builtin_patterns else [])
        self._user = (
            load_patterns(self.config.patterns_file, "user")
            if self.config.patterns_file is not None
            else []
        )
        self.countries = country_names([*self._builtin, *self._user])
        self._tools: dict[str, tuple[Lexicon, PatternMatcher | None, PatternMatcher | None]] = {}
        self.labels = set(self.config.labels)
        self._use_language("en")

    def _use_language(self, language: str) -> None:
        """Lexicon and matchers on the vocab of the pipeline that parses ``language``
        (spaCy matchers work on Docs of their own vocab), built once per language."""
        key = primary_language(language)
        if key not in self._tools:
            nlp = self.services.nlp_for(language)
            self._tools[key] = (
                Lexicon.from_nlp(nlp),
                PatternMatcher(nlp, self._builtin) if self._builtin else None,
                PatternMatcher(nlp, self._user) if self._user else None,
            )
        self.lexicon, self.builtin_matcher, self.user_matcher = self._tools[key]

    def process(self, doc: Document) -> None:
        if not hasattr(self, "stops"):
            self.setup()
        self._use_language(doc.language)
        parsed = self.services.parse(doc)
        candidates = self.find(parsed)
        if self.config.skip_headings and doc.headings:
            candidates = [
                c for c in candidates
                if doc.heading_at(parsed[c.start].idx, _end_char(parsed, c)) is None
            ]
        mentions = [
            Mention(text=parsed[c.start : c.end].text, label=c.label,
                    start=parsed[c.start].idx, fixed=c.fixed)
            for c in candidates
        ]
        names = canonicalize(mentions, self.stops.titles, self.stops.org_suffixes)
        entities = []
        for cand, canonical in zip(candidates, names, strict=True):
            start, end = parsed[cand.start].idx, _end_char(parsed, cand)
            entities.append(Entity(start=start, end=end, text=doc.text[start:end],
                                   label=cand.label, canonical=canonical))
        doc.entities = entities

    # -- the steps -------------------------------------------------------------------

    def find(self, parsed: SpacyDoc) -> list[Candidate]:
        """Entities of a parsed text after trimming, filters, patterns and relabelling."""
        candidates: list[Candidate] = []
        sports = sports_document(parsed, self.stops)
        for ent in parsed.ents:
            label = MODEL_LABELS.get(ent.label_, ent.label_)
            pieces = [(ent.start, ent.end)]
            if sports:  # "Euro 2024" keeps its number
                pieces = split_at_scores(parsed, ent.start, ent.end,
                                         trailing=label not in NUMBERED_LABELS)
            for piece in pieces:
                candidate = self._model_candidate(parsed, *piece, label)
                if candidate is not None:
                    candidates.append(candidate)
        if self.builtin_matcher is not None:
            index = SpanIndex(len(parsed), candidates)
            self._merge_builtin(parsed, index, self.builtin_matcher(parsed))
            candidates = index.items
        context = Context.of(parsed, candidates, self.stops, self.countries, sports,
                             self.lexicon.nouns)
        self._relabel_by_context(parsed, candidates, context)
        covered = [False] * len(parsed)
        for c in candidates:
            covered[c.start : c.end] = [True] * (c.end - c.start)
        if "ORG" in self.labels:
            candidates.extend(Candidate(start, end, "ORG", "context")
                              for start, end in missed_clubs(context, covered))
        if "PERSON" in self.labels:
            candidates.extend(Candidate(start, end, "PERSON", "context")
                              for start, end in missed_people(context, covered))
        candidates.extend(self._repeated_mentions(parsed, candidates))
        if self.user_matcher is not None:
            index = SpanIndex(len(parsed), candidates)
            self._merge_user(index, self.user_matcher(parsed))
            candidates = index.items
        candidates.sort(key=lambda c: c.start)
        return candidates

    def _model_candidate(
        self, parsed: SpacyDoc, start: int, end: int, label: str
    ) -> Candidate | None:
        """The model's entity trimmed and checked, or None when it is not a name."""
        span = trim(parsed, start, end, label, self.stops)
        if (span is not None and label != "PERSON" and span[1] - span[0] > 1
                and word_key(parsed[span[0]].text) in self.stops.honorifics
                and parsed[span[0] + 1].text[:1].isupper()):
            label = "PERSON"  # "Mr Okafor" is a person whatever the model says
            span = trim(parsed, span[0], span[1], label, self.stops)
        if label not in self.labels:
            return None
        if span is None or noise_reason(parsed, *span, label, self.stops, self.lexicon):
            return None
        return Candidate(span[0], span[1], label, "model")

    def _merge_builtin(self, parsed: SpacyDoc, index: SpanIndex, matches: list[Match]) -> None:
        person_words = _multiword_person_words(parsed, index.items)
        for match in matches:
            label = match.pattern.label
            if label not in self.labels:
                continue
            span = trim(parsed, match.start, match.end, label, self.stops)
            if span is None or noise_reason(parsed, *span, label, self.stops, self.lexicon):
                continue
            start, end = span
            overlapping = index.overlapping(start, end)
            if not overlapping:
                if any(t.pos_ == "PROPN" for t in parsed[start:end]):
                    index.add(Candidate(start, end, label, "builtin", match.pattern.id))
            elif len(overlapping) == 1 and (overlapping[0].start, overlapping[0].end) == span:
                found = overlapping[0]
                if found.source != "model":
                    continue
                if found.label == "PERSON" and label in PLACE_LABELS:
                    words = tuple(t.lower_ for t in parsed[start:end])
                    if words in person_words:
                        continue  # "Jordan" next to "Michael Jordan": a person's name
                found.label, found.fixed, found.source = label, match.pattern.id, "builtin"
            elif all(start <= c.start and c.end <= end for c in overlapping):
                for c in overlapping:
                    index.remove(c)
                index.add(Candidate(start, end, label, "builtin", match.pattern.id))

    def _relabel_by_context(
        self, parsed: SpacyDoc, candidates: list[Candidate], context: Context
    ) -> None:
        labels_at = {parsed[c.start : c.end].root.i: c.label for c in candidates}
        surnames = {
            parsed[c.end - 1].lower_
            for c in candidates
            if c.label == "PERSON" and c.end - c.start > 1
        }
        for cand in candidates:
            if cand.source != "model":
                continue
            if cand.label != "PERSON":
                # a lone word that is the surname of a person named in full elsewhere
                if cand.end - cand.start == 1 and parsed[cand.start].lower_ in surnames:
                    cand.label = "PERSON"
                continue
            if cand.end - cand.start > 1 or parsed[cand.start].lower_ in surnames:
                continue  # place names coordinated with places are single words here
            place = conjunct_label(parsed, cand.start, cand.end, labels_at)
            if place is not None:
                cand.label = place
            elif definite_place(parsed, cand.start, cand.end):
                cand.label = "LOC"
        for cand in relabel(context, [c for c in candidates if c.source != "user"]):
            cand.source = "context"  # read from the words around it: the vote keeps it
        _vote_labels(parsed, candidates)

    def _repeated_mentions(self, parsed: SpacyDoc, candidates: list[Candidate]) -> list[Candidate]:
        """Mentions the model missed of a name it found elsewhere in the document: the
        same words, spelt the same, as proper nouns outside any entity ("Okafor" after
        "Daniel Okafor", a second "Rustem Umerov"). A person's surname counts as
        the person's name."""
        names: dict[tuple[str, ...], Counter[str]] = {}
        for c in candidates:
            words = tuple(t.text for t in parsed[c.start : c.end])
            names.setdefault(words, Counter())[c.label] += 1
            if c.label == "PERSON" and c.end - c.start > 1:
                names.setdefault(words[-1:], Counter())["PERSON"] += 1
        by_first: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for words, labels in names.items():
            if len(words[0]) < 3 or not words[0][:1].isupper():
                continue
            if len(words) == 1 and self.stops.is_title_word(words[0]):
                continue
            by_first.setdefault(words[0], []).append((words, labels.most_common(1)[0][0]))
        for options in by_first.values():
            options.sort(key=lambda item: -len(item[0]))  # longest first
        covered = [False] * (len(parsed) + 1)
        for c in candidates:
            covered[c.start : c.end] = [True] * (c.end - c.start)
        found: list[Candidate] = []
        i = 0
        while i < len(parsed):
            token = parsed[i]
            for words, label in by_first.get(token.text, []):
                end = i + len(words)
                if end > len(parsed) or any(covered[i:end]):
                    continue
                span = parsed[i:end]
                if tuple(t.text for t in span) != words or any(
                    t.pos_ != "PROPN" for t in span
                ):
                    continue
                # the whole proper-noun run, not a piece of a longer name
                if (i > 0 and parsed[i - 1].pos_ == "PROPN") or (
                    end < len(parsed) and parsed[end].pos_ == "PROPN"
                ):
                    continue
                found.append(Candidate(i, end, label, "model"))
                covered[i:end] = [True] * len(words)
                i = end - 1
                break
            i += 1
        return found

    @staticmethod
    def _merge_user(index: SpanIndex, matches: list[Match]) -> None:
        placed: set[int] = set()
        for match in matches:
            if any(i in placed for i in range(match.start, match.end)):
                continue  # a longer user match already took these words
            for c in index.overlapping(match.start, match.end):
                index.remove(c)
            index.add(Candidate(match.start, match.end, match.pattern.label, "user",
                                match.pattern.id))
            placed.update(range(match.start, match.end))


def _vote_labels(parsed: SpacyDoc, candidates: list[Candidate]) -> None:
    """One name, one label per document: the model's mentions of the same words take
    the label most of them have (a clear majority only)."""
    votes: dict[str, Counter[str]] = {}
    for c in candidates:
        votes.setdefault(parsed[c.start : c.end].text.casefold(), Counter())[c.label] += 1
    for c in candidates:
        if c.source != "model":
            continue
        ranked = votes[parsed[c.start : c.end].text.casefold()].most_common(2)
        if len(ranked) == 2 and ranked[0][1] > ranked[1][1]:
            c.label = ranked[0][0]


def _end_char(parsed: SpacyDoc, cand: Candidate) -> int:
    last = parsed[cand.end - 1]
    return last.idx + len(last.text)


def _multiword_person_words(parsed: SpacyDoc, candidates: list[Candidate]) -> set[tuple[str, ...]]:
    """Every word and word run inside a PERSON name of two words or more."""
    runs: set[tuple[str, ...]] = set()
    for c in candidates:
        if c.label == "PERSON" and c.end - c.start > 1:
            words = [t.lower_ for t in parsed[c.start : c.end]]
            for i in range(len(words)):
                for j in range(i + 1, len(words) + 1):
                    runs.add(tuple(words[i:j]))
    return runs


@hookimpl
def register_stages() -> list[type[Stage]]:
    return [EntitiesStage]
