"""What a name stands for, read from its context: a club, a ground, a company or a town.

The small model labels a name mostly by its shape, so a town's club ("Harwick beat
Dunmore 2-1") comes out as two places, a club with a two-word name ("Harwick United") or a
company named after its founder as a person, and a stadium as an organisation. The checks
here correct those labels with general cues, every word list being a word class of
``stoplists.toml``:

* **sports reports** (``sports_document``): at least three different ``sports_words`` or
  two result lines. Only there is a place or a one-word "person" read as a club: when a
  score follows it ("Harwick 3"), when it beats, plays or loses to another
  (``contest_words``, "against", "v"), when a ``club_noun`` introduces it ("rivals
  Dunmore"), when a ``club_role`` follows it ("a Harwick striker"), when it is a plural
  nickname after "the" ("the Millers"), or when a fixture line pairs it with another
  ("Harwick at Dunmore"). Countries (patterns of kind "country") stay places: a national
  team is named after its country. A person named in full elsewhere in the document, or
  a name after an initial ("J. Harwick"), stays a person;
* **club names** anywhere: a name holding a ``club_word`` beside another capitalised word
  ("Harwick United", "Dynamo Velsk") is an organisation;
* **grounds**: a name ending in a ``venue_word`` ("Millbrook Stadium") is a facility, and
  in a sports report so is an organisation after "at" that is not playing ("at
  Millbrook");
* **companies**: a name ending in a ``legal_form`` ("Ostmark AG"), introduced by an
  ``org_noun`` ("carmaker Ostmark") or a "person" followed by an ``org_attribute``
  ("Ostmark shares") is an organisation;
* **towns**: a name after a ``place_noun`` and "of" ("the town of Velsk") or opening a
  dateline line ("VELSK , Orava 2024-05-02") is a place;
* **people by initial**: an initial and a surname ("K. Harwick") is a person, whether the
  model labelled it otherwise or missed it (``missed_people``).

Spans are token ranges ``[start, end)`` of the spaCy ``Doc``; ``relabel`` changes labels
only, never spans; ``missed_clubs`` and ``missed_people`` add the names the model did not
mark at all.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

from copydesk.plugins.entities.rules import StopLists, word_key

if TYPE_CHECKING:
    from spacy.tokens import Doc as SpacyDoc
    from spacy.tokens import Token

#: A score after a team's name: "3", "108-3", "2-1" (not a year, a date or a four-part
#: bowling figure).
_SCORE = re.compile(r"\d{1,3}(?:-\d{1,3})?")
#: Words between two teams of a fixture line ("Harwick v Dunmore", "HARWICK AT DUNMORE").
_FIXTURE_WORDS = frozenset({"v", "v.", "vs", "vs.", "versus", "at"})
#: Prepositions whose object is the other side of a contest ("against Dunmore").
_AGAINST = frozenset({"against", "v", "v.", "vs", "vs.", "versus"})
#: Prepositions whose object is the other side when a contest word heads them ("victory
#: over Dunmore", "lost to Dunmore", "drew with Dunmore", "beaten by Dunmore").
_CONTEST_PREPOSITIONS = frozenset({"over", "to", "with", "by"})
#: Lowercase words that may follow a team's score ("Harwick 3 points", "108 for three").
_AFTER_SCORE = frozenset({"and", "for", "points", "pts", "runs", "not", "all", "off"})
#: Marks before a player's name on a cricket scorecard (caught, bowled, stumped, lbw).
_SCORECARD_MARKS = frozenset({"b", "c", "st", "lbw"})
#: Labels a club's name may have been given by the model.
_CLUB_FROM = frozenset({"GPE", "LOC", "FAC", "PERSON", "PRODUCT", "EVENT", "WORK_OF_ART"})
#: Labels a place or a person-like company may be corrected from.
_NOT_PLACE = frozenset({"ORG", "PERSON", "NORP"})
_NOT_ORG = frozenset({"PERSON", "GPE", "LOC", "NORP", "FAC", "PRODUCT"})
#: Entity types of the model that a club's name never has (months, numbers…).
_NOT_NAMES = frozenset({"DATE", "TIME", "CARDINAL", "ORDINAL", "QUANTITY", "MONEY", "PERCENT"})
#: A sports report needs this many different sports words (or two result lines).
SPORTS_WORDS_NEEDED = 3


class Span(Protocol):
    """What ``relabel`` reads and writes of an entity candidate."""

    start: int
    end: int
    label: str


SpanT = TypeVar("SpanT", bound=Span)


@dataclass
class Context:
    """One parsed document as the checks see it."""

    doc: SpacyDoc
    stops: StopLists
    countries: frozenset[str]
    line_starts: list[int]  # character offset of each line start
    sports: bool
    surnames: frozenset[str]  # last words of people named in two words or more
    nouns: frozenset[str] = frozenset()  # dictionary nouns (``Lexicon.nouns``)

    @classmethod
    def of(cls, doc: SpacyDoc, spans: Sequence[Span], stops: StopLists,
           countries: frozenset[str], sports: bool | None = None,
           nouns: frozenset[str] = frozenset()) -> Context:
        text = doc.text
        line_starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
        surnames = frozenset(
            doc[s.end - 1].lower_ for s in spans if s.label == "PERSON" and s.end - s.start > 1
        )
        if sports is None:
            sports = sports_document(doc, stops)
        return cls(doc, stops, countries, line_starts, sports, surnames, nouns)

    def line_of(self, token: Token) -> int:
        return bisect_right(self.line_starts, token.idx) - 1

    def line_end(self, token: Token) -> int:
        """Index one past the last token on the token's line."""
        line = self.line_of(token)
        i = token.i
        while i + 1 < len(self.doc) and self.line_of(self.doc[i + 1]) == line \
                and "\n" not in self.doc[i + 1].text:
            i += 1
        return i + 1


def sports_document(doc: SpacyDoc, stops: StopLists) -> bool:
    """A sports report: three different sports words, or two result lines."""
    seen: set[str] = set()
    for token in doc:
        key = token.lower_
        if key in stops.sports_words:
            seen.add(key)
            if len(seen) >= SPORTS_WORDS_NEEDED:
                return True
    results = sum(1 for line in doc.text.split("\n") if _RESULT_LINE.match(line))
    return results >= 2


def split_at_scores(
    doc: SpacyDoc, start: int, end: int, trailing: bool = True
) -> list[tuple[int, int]]:
    """A span cut at the scores inside it (and, with ``trailing``, after it): the model
    reads a result line "Harwick 2 Dunmore 1" as one name; its pieces are "Harwick" and
    "Dunmore"."""
    pieces: list[tuple[int, int]] = []
    while end > start and doc[end - 1].is_space:
        end -= 1
    first = start
    for i in range(start + 1, end):
        token = doc[i]
        if (_SCORE.fullmatch(token.text) and doc[i - 1].whitespace_
                and ((trailing and i == end - 1)
                     or (i < end - 1 and token.whitespace_ and doc[i + 1].text[:1].isupper()))):
            if first < i:
                pieces.append((first, i))
            first = i + 1
    if first < end:
        pieces.append((first, end))
    return pieces


#: A result line: a name, a score, a name, a score ("Harwick 2 Dunmore 1").
_RESULT_LINE = re.compile(
    r"\s*[A-Z][\w.'’-]*(?: [A-Z][\w.'’-]*){0,3} \d{1,3}(?:-\d{1,3})?\s*,? "
    r"[A-Z][\w.'’-]*(?: [A-Z][\w.'’-]*){0,3} \d{1,3}(?:-\d{1,3})?\b"
)


def _key(doc: SpacyDoc, start: int, end: int) -> str:
    return word_key(doc[start:end].text)


def is_country(context: Context, start: int, end: int) -> bool:
    return _key(context.doc, start, end) in context.countries


def _score_follows(context: Context, end: int) -> bool:
    """A score stands right after the name, and what follows the score is not a unit or
    a noun ("Harwick 3 Dunmore 1", "Harwick 108-3", not "Velsk 70 km")."""
    doc = context.doc
    if end >= len(doc) or "\n" in doc[end - 1].whitespace_ or not _SCORE.fullmatch(doc[end].text):
        return False
    after = doc[end + 1] if end + 1 < len(doc) else None
    if after is not None and not doc[end].whitespace_ and not after.is_space:
        return False  # "10-0-41-2" split by the tokenizer: a bowling figure, not a score
    if after is None or "\n" in doc[end].whitespace_ or "\n" in after.text:
        return True
    return (after.is_punct or after.like_num or after.text[:1].isupper()
            or after.lower_ in _AFTER_SCORE)


def _in_contest(context: Context, start: int, end: int) -> bool:
    """The name is a side of a contest: subject or object of a contest word, the object of
    "against"/"v", or of "over"/"to"/"with"/"by" after a contest word."""
    doc = context.doc
    root = doc[start:end].root
    while root.dep_ == "conj" and root.head.i != root.i:
        root = root.head
    head = root.head
    contest = context.stops.contest_words
    if root.dep_ in ("nsubj", "nsubjpass", "dobj", "compound") and head.lower_ in contest:
        return True
    if root.dep_ in ("nsubj", "dobj") and head.lemma_.lower() in contest:
        return True
    if root.dep_ == "pobj":
        prep = head.lower_
        if prep in _AGAINST:
            return True
        if prep in _CONTEST_PREPOSITIONS and (
            head.head.lower_ in contest or head.head.lemma_.lower() in contest
        ):
            return True
    before = doc[start - 1].lower_ if start > 0 else ""
    after = doc[end].lower_ if end < len(doc) else ""
    return before in _AGAINST or after in ("v", "v.", "vs", "vs.", "versus")


def _club_cue(context: Context, start: int, end: int) -> bool:
    """A club noun introduces the name or a club role follows it."""
    doc = context.doc
    if start > 0 and doc[start - 1].lower_ in context.stops.club_nouns:
        return True
    i = end
    if i < len(doc) and doc[i].text in ("'s", "’s", "'", "’"):
        i += 1
    return i < len(doc) and doc[i].lower_ in context.stops.club_roles


def _fixture_line(context: Context, start: int, end: int) -> bool:
    """The name is one side of a line that only pairs two names ("HARWICK AT DUNMORE")."""
    doc = context.doc
    first = doc[start]
    line_end = context.line_end(first)
    line_start = start
    while line_start > 0 and context.line_of(doc[line_start - 1]) == context.line_of(first) \
            and "\n" not in doc[line_start - 1].text:
        line_start -= 1
    words = [t for t in doc[line_start:line_end] if not t.is_space]
    joints = [i for i, t in enumerate(words) if t.lower_ in _FIXTURE_WORDS]
    if len(joints) != 1 or joints[0] in (0, len(words) - 1):
        return False
    if words[joints[0]].lower_ == "at" and first.i > words[joints[0]].i:
        return False  # "HARWICK AT DUNMORE": the game is played in Dunmore
    names = words[: joints[0]] + words[joints[0] + 1 :]
    return all(t.text[:1].isupper() or t.is_punct for t in names) and len(names) <= 8


def _nickname(context: Context, start: int, end: int) -> bool:
    """A plural proper name after a lowercase "the": "the Millers", "the Red Sox"."""
    doc = context.doc
    last = doc[end - 1]
    return (start > 0 and doc[start - 1].lower_ == "the" and last.text[:1].isupper()
            and last.lower_.endswith("s") and not last.lower_.endswith("ss")
            and last.lower_ not in context.stops.sports_words
            and (last.tag_ == "NNPS" or last.pos_ == "PROPN"
                 or (last.pos_ == "NOUN" and last.lower_ not in context.nouns
                     and last.lower_[:-1] not in context.nouns)))


def _a_person(context: Context, span: Span) -> bool:
    """The span names a person: two words or more labelled so, the surname of someone named
    in full, or a name after an initial ("J. Harwick")."""
    doc = context.doc
    if span.label != "PERSON":
        return False
    if span.end - span.start > 1:
        return True
    if doc[span.start].lower_ in context.surnames:
        return True
    before = doc[span.start - 1].text if span.start > 0 else ""
    if len(before) == 2 and before[0].isupper() and before[1] == ".":
        return True
    # a scorecard's fielder or bowler: "c Harwick b Dunmore 12", "st Harwick", "lbw b Harwick"
    return before in _SCORECARD_MARKS


def plays(context: Context, span: Span) -> bool:
    """In a sports report: the span is a club taking part (a score, a contest, a club
    word around it, a nickname or a fixture line)."""
    if span.label == "NORP" and context.sports and span.end - span.start == 1:
        # "the Rovers": a club word, not a nationality ("the Mexicans" stays one)
        word = word_key(context.doc[span.start].text)
        return word in context.stops.club_words or word.rstrip("s") in context.stops.club_words
    if not context.sports or span.label not in _CLUB_FROM:
        return False
    if is_country(context, span.start, span.end) or _a_person(context, span):
        return False
    return (_score_follows(context, span.end) or _in_contest(context, span.start, span.end)
            or _club_cue(context, span.start, span.end)
            or _nickname(context, span.start, span.end)
            or _fixture_line(context, span.start, span.end))


def club_name(context: Context, start: int, end: int) -> bool:
    """A name holding a club word beside another capitalised word ("Harwick United")."""
    tokens = list(context.doc[start:end])
    if len(tokens) < 2 or not all(t.text[:1].isupper() or t.is_punct for t in tokens):
        return False
    words = context.stops.club_words
    if word_key(tokens[-1].text) in words:
        return True  # "Harwick United", "Dunmore Rovers"
    # "FC Harwick", "Dynamo Velsk" ("United" opens country names: "United States")
    first = word_key(tokens[0].text)
    return first in words and first != "united"


def venue(context: Context, span: Span) -> bool:
    """A ground: a name ending in a venue word, or, in a sports report, an organisation
    after "at" that takes no part in the contest."""
    doc = context.doc
    if span.end - span.start > 1 and word_key(doc[span.end - 1].text) in context.stops.venue_words:
        return True
    if not context.sports or span.label != "ORG" or span.start == 0:
        return False
    if doc[span.start - 1].lower_ != "at" or club_name(context, span.start, span.end):
        return False
    if _fixture_line(context, span.start, span.end) or _score_follows(context, span.end):
        return False
    return not any(t.is_upper and len(t) > 1 for t in doc[span.start : span.end])


def company(context: Context, span: Span) -> bool:
    """An organisation named like a person or a place: a legal form ends it, an org noun
    introduces it, or (for a "person") a company's attribute follows it."""
    doc = context.doc
    if span.label not in _NOT_ORG:
        return False
    last = word_key(doc[span.end - 1].text)
    if span.end - span.start > 1 and last in context.stops.legal_forms:
        return True
    if span.label == "PERSON" and span.end - span.start > 1 and last in context.stops.org_suffixes:
        return True
    before = doc[span.start - 1] if span.start > 0 else None
    if (before is not None and before.is_lower and before.pos_ == "NOUN"
            and before.lower_ in context.stops.org_nouns
            and not is_country(context, span.start, span.end)):
        return True
    if span.label != "PERSON" or _a_person_by_surname(context, span):
        return False
    i = span.end
    if i < len(doc) and doc[i].text in ("'s", "’s"):
        i += 1
    return i < len(doc) and doc[i].lower_ in context.stops.org_attributes


def _a_person_by_surname(context: Context, span: Span) -> bool:
    return span.end - span.start == 1 and context.doc[span.start].lower_ in context.surnames


def town(context: Context, span: Span) -> bool:
    """A place read as something else: the name after "<place noun> of" ("the town of
    Velsk"), or the name opening a dateline line ("VELSK , Orava 2024-05-02")."""
    if span.label not in _NOT_PLACE:
        return False
    doc = context.doc
    if (span.start > 1 and doc[span.start - 1].lower_ == "of"
            and doc[span.start - 2].lower_ in context.stops.place_nouns):
        return True
    return _dateline(context, span)


#: What follows the town of a dateline: an optional region, then a date or a wire credit
#: (", Orava 2024-05-02", " May 2", ", Orava (Reuters) -").
_DATELINE_REST = re.compile(
    r"\s*(?:,\s*[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,3}\s*,?)?\s*"
    r"(?:\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4}"
    r"|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2}"
    r"|\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
    r"|\((?:reuters|ap|afp|upi|dpa|xinhua)\)[^\n]{0,3})",
    re.IGNORECASE,
)


def _dateline(context: Context, span: Span) -> bool:
    """The name opens its line and a dateline's region, date or wire credit follows."""
    doc = context.doc
    first = doc[span.start]
    line = context.line_of(first)
    if first.idx != context.line_starts[line]:
        return False
    after = doc[span.end - 1].idx + len(doc[span.end - 1].text)
    line_end = doc.text.find("\n", after)
    rest = doc.text[after : len(doc.text) if line_end < 0 else line_end]
    return _DATELINE_REST.fullmatch(rest.rstrip()) is not None


def relabel(context: Context, spans: Sequence[SpanT]) -> list[SpanT]:
    """Correct the labels of ``spans`` in place (see the module docstring); return the
    spans whose label changed."""
    changed: list[SpanT] = []
    for span in spans:
        label = span.label
        if club_name(context, span.start, span.end):
            label = "ORG"
        elif venue(context, span) and span.label in ("ORG", "PERSON"):
            label = "FAC"
        elif plays(context, span) or company(context, span):
            label = "ORG"
        elif town(context, span):
            label = "GPE"
        elif initialled(context, span):
            label = "PERSON"
        if label != span.label:
            span.label = label
            changed.append(span)
    return changed


def missed_clubs(context: Context, covered: Sequence[bool]) -> list[tuple[int, int]]:
    """In a sports report, the club names no entity covers: a plural nickname ("the
    Millers"), a side of a contest ("Harwick beat ..."), and in result and standings lines
    a run of capitalised proper nouns followed by a score, opening its line or right after
    another side's score ("Harwick 2 Dunmore 1", "Harwick 3 2 1 0 7 3 7")."""
    if not context.sports:
        return []
    doc = context.doc
    found: list[tuple[int, int]] = []
    i = 0
    while i < len(doc):
        end = _name_run(context, i)
        if (end > i and not any(covered[i:end]) and not is_country(context, i, end)
                and end - i <= 3 and doc[end - 1].lower_ not in context.surnames
                and (_nickname(context, i, end) or _in_contest(context, i, end))):
            found.append((i, end))  # "the Millers", "Harwick beat ..."
            i = end
            continue
        if end == i:
            i += 1
            continue
        token = doc[i]
        opens_line = token.idx == context.line_starts[context.line_of(token)]
        after_score = (i > 0 and _SCORE.fullmatch(doc[i - 1].text) is not None
                       and "\n" not in doc[i - 1].whitespace_)
        if ((opens_line or after_score) and _score_follows(context, end)
                and not any(covered[i:end]) and not is_country(context, i, end)
                and end - i <= 4
                and not any(t.lower_ in context.stops.sports_words for t in doc[i:end])):
            found.append((i, end))
        i = end
    return found


def _name_run(context: Context, i: int) -> int:
    """The end of the run of capitalised proper nouns starting at ``i`` ("of" and "'s"
    allowed inside: "Queen of the South"); ``i`` when there is none."""
    doc = context.doc
    j = i
    while j < len(doc):
        token = doc[j]
        name_word = (token.text[:1].isupper() and token.is_alpha
                     and token.ent_type_ not in _NOT_NAMES
                     and (token.pos_ == "PROPN"
                          or (token.pos_ == "NOUN" and token.lower_ not in context.nouns)))
        joining = (j > i and token.lower_ in ("of", "the", "'s", "’s") and j + 1 < len(doc)
                   and doc[j + 1].text[:1].isupper())
        if not (name_word or joining):
            break
        j += 1
        if "\n" in token.whitespace_:
            break
    while j > i and not doc[j - 1].text[:1].isupper():
        j -= 1
    return j


#: An initial: one capital letter and a dot ("J.").
_INITIAL = re.compile(r"[A-Z]\.")


def missed_people(context: Context, covered: Sequence[bool]) -> list[tuple[int, int]]:
    """People the model did not mark, named by an initial and a surname ("J. Harwick",
    as scorecards, results and bylines write them): an initial followed by one or two
    capitalised proper nouns, none of them inside an entity."""
    doc = context.doc
    found: list[tuple[int, int]] = []
    for i, token in enumerate(doc[:-1]):
        if not _INITIAL.fullmatch(token.text) or covered[i]:
            continue
        end = i + 1
        while (end < len(doc) and end - i <= 2 and doc[end].is_alpha
               and doc[end].text[:1].isupper() and doc[end].pos_ == "PROPN"
               and not covered[end]):
            end += 1
        if end > i + 1 and not (i > 0 and _INITIAL.fullmatch(doc[i - 1].text)):
            found.append((i, end))
    return found


def initialled(context: Context, span: Span) -> bool:
    """An initial and a surname labelled as something else ("K. Harwick" as ORG) is a
    person, unless a legal form or an organisation's word ends it."""
    doc = context.doc
    if span.label == "PERSON" or span.label not in _NOT_ORG | {"ORG"}:
        return False
    words = list(doc[span.start : span.end])
    last = word_key(words[-1].text)
    return (2 <= len(words) <= 3 and _INITIAL.fullmatch(words[0].text) is not None
            and all(t.is_alpha and t.text[:1].isupper() for t in words[1:])
            and last not in context.stops.legal_forms and last not in context.stops.org_suffixes)
