"""Summary candidates: the sentences of the shared parse, what disqualifies one, and its terms.

Every sentence of the spaCy parse becomes a ``Candidate`` with its stripped offsets into
``Document.text``. A candidate is *eligible* for the summary unless it is a heading
(``Document.headings``), a caption or credit, page furniture (``furniture.txt`` patterns and
bylines) or a fragment (too short, no verb, no sentence-final punctuation, or starting in
lower case as the tail of a mis-split sentence). A time stamp, dateline or wire credit opening
a paragraph ("updated 6:05 PM GMT, Fri March 3, 2023 ", "OSLO — ", "(Reuters) ") is left
out of the candidate's span. Eligible candidates carry
what the ranker needs: lemma terms for TF-IDF, the entities and numbers they mention,
and a few shape flags (among them a pointer at a photo, "Mayor Ortiz (right) listened ...").
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spacy.tokens import Doc as SpacyDoc
    from spacy.tokens import Span as SpacySpan

#: Entity labels (spaCy/OntoNotes) that name what an article is about.
NAME_LABELS = frozenset(
    {"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW"}
)
#: Labels of the parse's entities that count as numbers when no numbers layer exists.
NUMBER_LABELS = frozenset({"MONEY", "PERCENT", "QUANTITY", "CARDINAL"})
#: Kinds of the numbers layer that carry a figure worth reporting (dates and times do not).
NUMBER_KINDS = frozenset({"money", "percent", "quantity", "cardinal"})

OPEN_QUOTES = "\"'“‘«„"
CLOSERS = "\"'”’»)]}"
TERMINAL = ".!?…"
#: Openings that lean on the sentence before (connectives and pronouns): such a sentence
#: reads badly out of context unless it follows its antecedent.
DANGLING = frozenset({
    "but", "however", "and", "also", "still", "meanwhile", "nevertheless", "nonetheless",
    "yet", "so", "then", "instead", "moreover", "furthermore", "besides", "indeed", "thus",
    "hence", "therefore", "this", "that", "these", "those", "he", "she", "it", "they",
    "his", "her", "its", "their", "him", "them", "such", "there",
})

#: A byline: "By Jane Smith", "By . Daily Mail Reporter .", "By JOHN DOE | ...".
#: A dateline or wire credit opening a paragraph: "(AP) ", "Lyon (AFP) -- ",
#: "OSLO (Reuters) – ", "DENVER — ", "Porto, Portugal — ". Trimmed from the sentence.
_DATELINE = re.compile(
    r"^(?:(?:[A-Z][\w.'’]*(?:[ ,]+[A-Z][\w.'’]*){0,4}\s*)?"
    r"\((?:CNN|AP|Reuters|AFP|UPI|dpa|PA)\)\s*(?:—|--|–|-)?\s*"
    r"|[A-Z][\w.'’]*(?:[ ,]+[A-Z][\w.'’]*){0,4}\s+(?:—|--)\s+)"
)
_WORD = re.compile(r"(?<!\S)\S*\w\S*")  # from a word start only: linear time
_LIST_MARKS = re.compile(r"[,;()]")
#: A pointer at a picture: "Mayor Ortiz (right) listened", "the crater (pictured)". Such a
#: sentence is a photo caption, often run into the next sentence, or leans on the photo.
_PICTURE_POINTER = re.compile(
    r"\((?:(?:far |second |top |bottom )?(?:left|right)|cent(?:re|er)|above|below|pictured|inset"
    r"|top|bottom|front|back|file photo)\)",
    re.IGNORECASE,
)
#: A sentence without a verb is a fragment (a caption, a team sheet) unless it is at least
#: this long and not list-like: then the tagger has most likely missed its verb ("The Rovers
#: host the leaders on Saturday ...", with "host" tagged as a noun).
VERBLESS_PROSE_WORDS = 15
#: One word of a time stamp printed before the first sentence ("updated 6:05 PM GMT, Fri
#: March 3, 2023 ", "03/14/2021 AT 11:20 AM PST "): stamp keywords, weekdays, months,
#: day numbers, years, numeric dates, clock times, AM/PM, "at" and time-zone codes.
_STAMP_WORD = re.compile(
    r"(?:(?:last|updated|published|posted|modified)\b:?"
    r"|(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov"
    r"|dec)[a-z]*\.?|\d{1,2}(?:st|nd|rd|th)?|(?P<year>(?:19|20)\d\d)|(?P<date>\d{1,2}[/.-]"
    r"\d{1,2}[/.-]\d{2,4})|(?P<time>\d{1,2}[:.]\d\d(?:\s*[ap]\.?m\.?)?)|[ap]\.?m\.?|at"
    r"|[ecmp][sd]?t|gmt|bst|utc|cet|\|)[,|]?(?:\s+|$)",
    re.IGNORECASE,
)
_MONTH = re.compile(r"^(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)", re.IGNORECASE)
_BYLINE = re.compile(r"^By\s+(\.\s*)?([A-Z][\w'’.-]*\s*){1,5}(\||,|\.|$|\bfor\b|\band\b)")


@dataclass
class Candidate:
    """One sentence of the document and what the ranker knows about it."""

    index: int
    start: int
    end: int
    text: str
    words: int
    reason: str | None = None
    terms: list[str] = field(default_factory=list)
    entities: set[str] = field(default_factory=set)
    numbers: int = 0
    paragraph_start: bool = False
    quoted: bool = False
    question: bool = False
    dangling: bool = False
    pictured: bool = False

    @property
    def eligible(self) -> bool:
        return self.reason is None


@lru_cache(maxsize=1)
def furniture_patterns() -> tuple[re.Pattern[str], ...]:
    """The compiled patterns of ``furniture.txt`` (package data)."""
    raw = resources.files(__package__).joinpath("furniture.txt").read_text(encoding="utf-8")
    patterns = []
    for line in raw.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            patterns.append(re.compile(line, re.IGNORECASE))
    return tuple(patterns)


def is_furniture(sentence: str) -> bool:
    """True when ``sentence`` is a credit, stamp, byline or widget line."""
    if _BYLINE.match(sentence) and len(sentence.split()) <= 12:
        return True
    return any(p.search(sentence) for p in furniture_patterns())


def count_words(text: str) -> int:
    """Words as a reader counts them: whitespace-separated pieces with a letter or digit."""
    return len(_WORD.findall(text))


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def stamp_length(sentence: str) -> int:
    """Characters of a leading time stamp ("updated 6:05 PM GMT, Fri March 3, 2023 "),
    0 when there is none. A run of stamp words counts only when it holds a clock time,
    a numeric date, or a month with a year, and a capitalised sentence follows it."""
    at, has_time, has_month, has_year = 0, False, False, False
    while match := _STAMP_WORD.match(sentence, at):
        has_time = has_time or bool(match["time"] or match["date"])
        has_month = has_month or bool(_MONTH.match(match.group(0)))
        has_year = has_year or bool(match["year"])
        at = match.end()
    if not (has_time or (has_month and has_year)):
        return 0
    rest = sentence[at:].lstrip(OPEN_QUOTES)
    return at if rest[:1].isupper() else 0


def dateline_length(sentence: str) -> int:
    """Characters of a leading time stamp, dateline or wire credit (0 when there is none)."""
    stamp = stamp_length(sentence)
    if stamp:
        return stamp + dateline_length(sentence[stamp:])
    match = _DATELINE.match(sentence)
    if not match:
        return 0
    rest = sentence[match.end():].lstrip(OPEN_QUOTES)
    return match.end() if rest[:1].isupper() or rest[:1].isdigit() else 0


def _opens_paragraph(text: str, start: int) -> bool:
    """Only spaces and tabs lie between ``start`` and the text's start or a line break
    (looks back from ``start`` instead of copying the text before it)."""
    i = start
    while i > 0 and text[i - 1] in " \t":
        i -= 1
    return i == 0 or text[i - 1] == "\n"


def _quoted_share(sentence: str) -> float:
    """Share of the sentence's characters that lie inside quotation marks."""
    inside = 0
    depth_char: str | None = None
    opened = 0
    pairs = {'"': '"', "“": "”", "«": "»", "„": "“"}
    for i, ch in enumerate(sentence):
        if depth_char is None and ch in pairs:
            depth_char, opened = pairs[ch], i
        elif depth_char is not None and ch == depth_char:
            inside += i - opened + 1
            depth_char = None
    return inside / max(len(sentence), 1)


def _overlaps(start: int, end: int, spans: Sequence[tuple[int, int]]) -> bool:
    return any(s < end and start < e for s, e in spans)


def fragment_reason(sent: SpacySpan, text: str, min_words: int) -> str | None:
    """Why the sentence is not a complete sentence of prose (None when it is)."""
    words = [t for t in sent if not (t.is_punct or t.is_space)]
    if len(words) < min_words:
        return "fragment"
    if not any(t.pos_ in ("VERB", "AUX") for t in sent) and (
        len(words) < VERBLESS_PROSE_WORDS or _list_like(text, len(words))
    ):
        return "fragment"
    body = text.rstrip().rstrip(CLOSERS + " ")
    if not body or body[-1] not in TERMINAL:
        return "fragment"
    first = text.lstrip(OPEN_QUOTES + "([ ")
    if not first or not (first[0].isupper() or first[0].isdigit()):
        return "fragment"
    return None


def _list_like(text: str, words: int) -> bool:
    """A line of names or fixtures: a comma, semicolon or bracket every few words."""
    return len(_LIST_MARKS.findall(text)) > words // 6 or ":" in text or text[:1] in "-•"


def caption_reason(text: str) -> str | None:
    """A sentence wholly inside brackets is a caption or an aside, not prose."""
    if text[:1] in "([" and text.rstrip(". ")[-1:] in ")]":
        return "caption"
    return None


def term_list(sent: SpacySpan) -> list[str]:
    """Content lemmas of a sentence: no stop words, punctuation or one-letter tokens."""
    terms = []
    for tok in sent:
        if tok.is_stop or tok.is_punct or tok.is_space or not (tok.is_alpha or tok.like_num):
            continue
        lemma = tok.lemma_.lower()
        if len(lemma) > 1:
            terms.append(lemma)
    return terms


def entity_mentions(
    parsed: SpacyDoc, layer: Sequence[Any] | None
) -> list[tuple[int, int, str]]:
    """``(start, end, key)`` of the names in the text: the entities layer when a stage
    provided one, else the parse's own named entities, surnames linked to full names."""
    if layer:
        return [
            (e.start, e.end, (e.canonical or e.text).lower())
            for e in layer
            if e.label in NAME_LABELS
        ]
    ents = [e for e in parsed.ents if e.label_ in NAME_LABELS]
    full_names: dict[str, str] = {}
    for ent in ents:
        if ent.label_ == "PERSON" and len(ent) > 1:
            full_names.setdefault(ent[-1].text.lower(), ent.text.lower())
    mentions = []
    for ent in ents:
        key = ent.text.lower().removeprefix("the ")
        if ent.label_ == "PERSON" and len(ent) == 1:
            key = full_names.get(key, key)
        mentions.append((ent.start_char, ent.end_char, key))
    return mentions


def number_mentions(parsed: SpacyDoc, layer: Sequence[Any] | None) -> list[int]:
    """Start offsets of the figures in the text (the numbers layer, else the parse's)."""
    if layer:
        return [n.start for n in layer if n.kind in NUMBER_KINDS]
    return [e.start_char for e in parsed.ents if e.label_ in NUMBER_LABELS]


def candidates(
    parsed: SpacyDoc,
    text: str,
    headings: Iterable[tuple[int, int]] = (),
    entities: Sequence[Any] | None = None,
    numbers: Sequence[Any] | None = None,
    min_words: int = 5,
    max_candidates: int | None = None,
) -> list[Candidate]:
    """Every sentence of ``parsed`` (the parse of ``text``) as a candidate, in order.

    Only the first ``max_candidates`` eligible sentences stay eligible (the ranker
    compares every pair of them); later ones get the reason ``beyond the first N``."""
    heading_spans = list(headings)
    names = sorted(entity_mentions(parsed, entities))
    name_starts = [s for s, _, _ in names]
    figures = sorted(number_mentions(parsed, numbers))
    eligible = 0
    out: list[Candidate] = []
    for sent in parsed.sents:
        start, end = _strip_span(text, sent.start_char, sent.end_char)
        if start >= end:
            continue
        paragraph_start = _opens_paragraph(text, start)
        if paragraph_start:
            start += dateline_length(text[start:end])
        body = text[start:end]
        cand = Candidate(
            index=len(out),
            start=start,
            end=end,
            text=body,
            words=count_words(body),
            paragraph_start=paragraph_start,
        )
        if _overlaps(start, end, heading_spans):
            cand.reason = "heading"
        else:
            cand.reason = (
                caption_reason(body)
                or ("furniture" if is_furniture(body) else None)
                or fragment_reason(sent, body, min_words)
            )
        if cand.eligible and max_candidates is not None and eligible >= max_candidates:
            cand.reason = f"beyond the first {max_candidates} eligible sentences"
        if cand.eligible:
            eligible += 1
            cand.terms = term_list(sent)
            # the names and figures inside the sentence, found by bisection: linear overall
            first = bisect_left(name_starts, start)
            inside = names[first:bisect_left(name_starts, end, lo=first)]
            cand.entities = {key for s, e, key in inside if e <= end}
            cand.numbers = bisect_left(figures, end) - bisect_left(figures, start)
            cand.quoted = body[:1] in OPEN_QUOTES or _quoted_share(body) > 0.5
            cand.question = body.rstrip(CLOSERS + " ").endswith("?")
            cand.pictured = bool(_PICTURE_POINTER.search(body))
            opener = next((t for t in sent if not (t.is_punct or t.is_space)), None)
            cand.dangling = opener is not None and opener.lower_ in DANGLING
        out.append(cand)
    return out
