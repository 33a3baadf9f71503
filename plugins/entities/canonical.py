"""Canonical names: group the mentions of one entity within a document.

Every mention gets the name all mentions of its entity share. The rules, in order:

1. A mention matched by a pattern that carries an ``id`` takes that id ("U.S." with
   ``"id": "United States"``).
2. The mention is normalised: whitespace collapsed, a leading "the" and a trailing
   possessive ("'s", "’s", "s'") removed, and for people the titles in front
   ("President", "Defense Minister") stripped.
3. People: a name whose words appear, in order and contiguous, inside a longer name of
   the same document is a short form of it ("Zelenskyy", "President Zelenskyy" →
   "Volodymyr Zelenskyy"; "Putin" → "Vladimir Putin"). The longest full form wins;
   when two full forms fit ("Smith" in "John Smith" and "Jane Smith"), the nearest
   one mentioned before wins, else the first one after.
4. Organisations and places: an acronym whose letters are the initials of a longer
   name in the document, or of its last words, stands for it ("SEC" → "US Securities
   and Exchange Commission").
5. Organisations: a name that a longer one extends only by generic words ("Party",
   "Corp", "Group": ``org_suffixes``) stands for it ("Labour" → "Labour Party").
6. Forms that differ only in case, spaces or hyphens share one spelling, preferring
   mixed case over ALL CAPS headline text, then the most frequent spelling.

Mentions are only grouped within a label family: people with people; GPE, LOC and FAC
together as places; organisations with organisations; every other label alone.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

#: Labels grouped together when names are compared.
FAMILIES: dict[str, str] = {
    "PERSON": "person",
    "GPE": "place",
    "LOC": "place",
    "FAC": "place",
    "ORG": "org",
}

_POSSESSIVE = re.compile(r"(?:['’]s|(?<=s)['’])$", re.IGNORECASE)
_LEADING_THE = re.compile(r"^the\s+", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"[^\W_]+(?:[-'’.][^\W_]+)*\.?")
#: Words skipped when taking the initials of a name ("Bank of England" → "BE").
_INITIALS_SKIP = frozenset({"of", "and", "the", "for", "on", "in", "&", "de", "du", "des"})


@dataclass
class Mention:
    """One entity mention as canonicalisation sees it."""

    text: str
    label: str
    start: int = 0
    #: A canonical name fixed in advance (a pattern's ``id``), or None.
    fixed: str | None = None


@dataclass
class _Form:
    key: str
    words: tuple[str, ...]
    spellings: Counter[str] = field(default_factory=Counter)
    positions: list[int] = field(default_factory=list)

    @property
    def spelling(self) -> str:
        def rank(item: tuple[str, int]) -> tuple[int, int]:
            text, count = item
            mixed = 0 if (text.isupper() and len(text) > 3) else 1
            return (mixed, count)

        return max(self.spellings.items(), key=rank)[0]


def _title_key(word: str) -> str:
    return word.lower().rstrip(".")


def normalize(text: str, label: str, title_keys: AbstractSet[str] = frozenset()) -> str:
    """The mention's name without surrounding noise: "President Zelenskyy's" → "Zelenskyy".

    ``title_keys``: the title words stripped from the front of a person's name, lowercased
    and without a trailing dot (built once per document by ``canonicalize``)."""
    name = _SPACES.sub(" ", text).strip(" \t\n,;:()[]\"“”‘")
    name = _POSSESSIVE.sub("", name).rstrip()
    name = _LEADING_THE.sub("", name)
    if label == "PERSON":
        words = name.split(" ")
        while len(words) > 1 and _title_key(words[0]) in title_keys:
            words = words[1:]
        name = " ".join(words)
    return name


def _key(name: str) -> str:
    """Forms that differ only in case, spaces or hyphens are one form
    ("Quell Mark" / "QuellMark", "Al-Qaeda" / "Al Qaeda")."""
    return re.sub(r"[\s\-‐–]+", "", name).casefold()


def _words(name: str) -> tuple[str, ...]:
    return tuple(w.casefold() for w in _WORD.findall(name))


def _acronym(name: str) -> str | None:
    letters = name.replace(".", "").replace(" ", "")
    if 2 <= len(letters) <= 7 and letters.isalpha() and letters.isupper():
        return letters
    return None


def _initials(name: str) -> list[str]:
    """Initials of the name and of each shorter tail of it of two words or more:
    "US Securities Exchange Commission" → ["USEC", "SEC", "EC"]."""
    words = [
        w for w in name.replace("-", " ").split(" ")
        if w and w.lower() not in _INITIALS_SKIP and w[0].isalpha()
    ]
    letters = "".join(w[0].upper() for w in words)
    return [letters[i:] for i in range(max(len(letters) - 1, 0))]


def _contains(longer: tuple[str, ...], shorter: tuple[str, ...]) -> bool:
    n = len(shorter)
    if n == 0 or n >= len(longer):
        return False
    return any(longer[i : i + n] == shorter for i in range(len(longer) - n + 1))


def _nearest(candidates: Sequence[_Form], position: int) -> _Form:
    """The candidate mentioned last before ``position``, else the first mentioned after."""
    best: tuple[int, _Form] | None = None
    for form in candidates:
        index = bisect_right(form.positions, position)
        if index and (best is None or form.positions[index - 1] > best[0]):
            best = (form.positions[index - 1], form)
    if best is not None:
        return best[1]
    return min(candidates, key=lambda f: f.positions[0])


def canonicalize(
    mentions: Sequence[Mention],
    titles: Iterable[str] = (),
    org_suffixes: Iterable[str] = (),
) -> list[str]:
    """The canonical name of each mention, in the order given."""
    title_keys = {_title_key(t) for t in titles}
    suffixes = {w.casefold().rstrip(".") for w in org_suffixes}
    names = [normalize(m.text, m.label, title_keys) or m.text.strip() for m in mentions]
    families = [FAMILIES.get(m.label, m.label) for m in mentions]

    forms: dict[tuple[str, str], _Form] = {}
    for mention, name, family in zip(mentions, names, families, strict=True):
        key = _key(name)
        form = forms.setdefault((family, key), _Form(key=key, words=_words(name)))
        form.spellings[name] += 1
        form.positions.append(mention.start)

    for form in forms.values():
        form.positions.sort()
    by_family: dict[str, list[_Form]] = {}
    for (family, _unused), form in forms.items():
        by_family.setdefault(family, []).append(form)

    candidates: dict[int, list[_Form]] = {}  # per form: the full forms it may stand for

    def full_forms(form: _Form, family: str) -> list[_Form]:
        cached = candidates.get(id(form))
        if cached is not None:
            return cached
        peers = by_family[family]
        found: list[_Form] = []
        if family == "person" and form.words:
            longer = [f for f in peers if _contains(f.words, form.words)]
            found = [f for f in longer if not any(_contains(g.words, f.words) for g in longer)]
        elif family == "org" and suffixes and form.words:
            n = len(form.words)
            found = [
                f for f in peers
                if len(f.words) > n and f.words[:n] == form.words
                and all(w.rstrip(".") in suffixes for w in f.words[n:])
            ]
        if not found and family in ("org", "place"):
            letters = _acronym(form.spelling)
            if letters:
                found = [
                    f for f in peers
                    if f is not form and len(f.words) >= 2 and letters in initials_of(f)
                ]
        candidates[id(form)] = found
        return found

    initials: dict[int, list[str]] = {}

    def initials_of(form: _Form) -> list[str]:
        if id(form) not in initials:
            initials[id(form)] = _initials(form.spelling)
        return initials[id(form)]

    result: list[str] = []
    for mention, name, family in zip(mentions, names, families, strict=True):
        if mention.fixed:
            result.append(mention.fixed)
            continue
        form = forms[(family, _key(name))]
        fuller = full_forms(form, family)
        target = _nearest(fuller, mention.start) if fuller else form
        result.append(target.spelling)
    return result
