"""Resolve a speaker mention to a canonical name.

A named speaker takes the canonical name of the entity (from the entities layer) it
overlaps, or of a person named earlier whose surname it shares. A pronoun ("he",
"she") is resolved to the nearest person named before it that is compatible: same
grammatical gender when the text or the given-name list tells it. A definite
description ("the senator", "the defender", "the 30-year-old"; see
:mod:`plugins.quotes.descriptions`) goes to the person the text gave that title, role
or age, else, for a role or an age, to the person named just before. "Who" and "that"
in a relative clause go to the noun the clause hangs from. "It" and "they" go to the
organisation (or, for "they", plural group) named shortly before as the subject of its
clause, when no person was named in between. Indefinite and plural descriptions ("local
officials", "a senior aide") and bodies ("the club") have no canonical name.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field

from copydesk.document import Entity
from copydesk.plugins.quotes.attribution import noun_phrase, relative_subject
from copydesk.plugins.quotes.descriptions import Description, describe, described_as
from copydesk.plugins.quotes.lexicon import FEMALE, MALE, Lexicon
from copydesk.plugins.quotes.marks import SpanIndex
from spacy.tokens import Doc as SpacyDoc
from spacy.tokens import Token

#: Entity labels that can name a speaker.
SPEAKER_LABELS = ("PERSON", "ORG", "NORP", "GPE", "PER")
_PRONOUNS_SINGULAR = {"he", "she", "him", "her"}
_FIRST_PERSON = {"i", "we", "me", "us"}
#: "it said", "they said": an organisation (or country) named shortly before; "they"
#: also a group such as "Democrats" (NORP).
_THEY = ("ORG", "NORP")
_GROUP_PRONOUNS = {"it": ("ORG", "GPE"), "they": _THEY}


@dataclass
class Person:
    """A person named in the text: every mention, and what the text says about them."""

    canonical: str
    mentions: list[tuple[int, int]] = field(default_factory=list)
    gender: str | None = None
    titles: set[str] = field(default_factory=set)
    #: Role words the text puts beside the name ("defender", "captain") and the age.
    roles: set[str] = field(default_factory=set)
    age: str | None = None


class SpeakerResolver:
    """Canonical names for speaker mentions of one document."""

    #: How far back (characters) a gender-matching person beats a nearer unknown one.
    WINDOW = 400

    def __init__(
        self,
        entities: list[Entity],
        sp: SpacyDoc,
        lex: Lexicon,
        quoted: list[tuple[int, int]] | None = None,
    ) -> None:
        self.sp = sp
        self.text = sp.text
        self.lex = lex
        self.quoted = SpanIndex(quoted or [])
        self.entities = sorted(
            (e for e in entities if e.label in SPEAKER_LABELS), key=lambda e: e.start
        )
        # for bisection: a look-up near an offset costs log(entities), not all of them
        self._starts = [e.start for e in self.entities]
        self._longest = max((e.end - e.start for e in self.entities), default=0)
        self.persons: dict[str, Person] = {}
        #: Every role word the text gives a person (see ``Person.roles``).
        self._roles: set[str] = set()
        for ent in self.entities:
            if ent.label in ("PERSON", "PER"):
                self._add_person(ent.canonical, ent.start, ent.end)

    # -- what the text says about each person ----------------------------------------

    def _add_person(self, canonical: str, start: int, end: int) -> Person:
        person = self.persons.setdefault(canonical, Person(canonical))
        if (start, end) not in person.mentions:
            person.mentions.append((start, end))
            person.mentions.sort()
        span = self.sp.char_span(start, end, alignment_mode="expand")
        if span is not None:
            for tok in self._words_before(span[0]):
                word = tok.lower_
                gender = self.lex.gender_of_word(word)
                if gender is not None and person.gender is None:
                    person.gender = gender
                if self.lex.is_title_word(word):
                    person.titles.add(word.rstrip("."))
            roles, age = described_as(span, self.lex)
            person.roles |= roles
            self._roles |= roles
            person.age = person.age or age
        if person.gender is None:
            given = canonical.split()[0] if canonical.split() else ""
            person.gender = self.lex.gender_of_name(given)
        return person

    def _words_before(self, first: Token) -> list[Token]:
        """Title and honorific words just before a name ("Ukrainian President …")."""
        words: list[Token] = []
        i = first.i - 1
        while i >= 0 and len(words) < 4:
            tok = self.sp[i]
            low = tok.lower_
            if tok.is_space or (tok.is_punct and low not in (".",)):
                break
            if self.lex.is_title_word(low) or self.lex.gender_of_word(low) is not None:
                words.append(tok)
            elif not (tok.pos_ in ("ADJ", "PROPN") and tok.text[:1].isupper()):
                break
            i -= 1
        return words

    def learn(self, canonical: str, start: int, end: int) -> None:
        """Record a named speaker as a person (the entities layer may have missed it)."""
        self._add_person(canonical, start, end)

    # -- resolution ------------------------------------------------------------------

    def entity_at(self, start: int, end: int, head: int | None = None) -> Entity | None:
        """The entity inside the speaker span, preferring persons and the head word."""
        near = self.entities[bisect_left(self._starts, start - self._longest):
                             bisect_left(self._starts, end)]
        overlapping = [e for e in near if e.start < end and start < e.end]
        if not overlapping:
            return None
        if head is not None:
            tok = self.sp[head]
            at_head = [e for e in overlapping if e.start <= tok.idx < e.end]
            if at_head:
                overlapping = at_head
        overlapping.sort(key=lambda e: (e.label not in ("PERSON", "PER"), e.start))
        return overlapping[0]

    def canonical(self, start: int, end: int, head: int | None = None) -> str | None:
        """The canonical name of the speaker mention ``text[start:end]``, or None."""
        head_tok = self.sp[head] if head is not None else None
        if head_tok is not None and relative_subject(head_tok):
            # "who", "that": the person or body of the noun the clause hangs from
            antecedent = head_tok.head.head
            if antecedent is head_tok.head or relative_subject(antecedent):
                return None
            return self.canonical(*noun_phrase(antecedent), antecedent.i)
        low = self.text[start:end].lower().strip()
        if (head_tok is not None and head_tok.pos_ == "PRON") or low in _PRONOUNS_SINGULAR:
            pron = (head_tok.lower_ if head_tok is not None else low)
            if pron in _GROUP_PRONOUNS:
                group = self._nearest_group(start, _GROUP_PRONOUNS[pron])
                return group.canonical if group else None
            gender = self.lex.gender_of_word(pron)
            if pron not in _PRONOUNS_SINGULAR or gender is None:
                return None  # I, we, they, everyone…: no person to point back to
            person = self._nearest(start, gender=gender)
            return person.canonical if person else None
        entity = self.entity_at(start, end, head)
        if entity is not None and (head_tok is None or entity.start <= head_tok.idx < entity.end):
            return entity.canonical
        if head_tok is not None and head_tok.pos_ == "PROPN":
            name = self._proper_name(start, end)
            person = self._by_surname(name, start)
            return person.canonical if person else name
        if head_tok is not None:
            return self._described(head_tok, start, end)
        return None

    def _described(self, head: Token, start: int, end: int) -> str | None:
        """"the defender", "the minister", "the 30-year-old": the person named before
        whom the text gave that role, title or age; failing that, for a role or an age,
        the person named last in the sentences just before. The mention then counts as
        theirs, so a later description can follow the same person."""
        desc = describe(head, self.lex, self._roles)
        if desc is None:
            return None
        person = self._nearest(start, gender=desc.gender, described=desc)
        if person is None and desc.kind != "title":
            person = self._nearest(start, gender=desc.gender, within=2 * self.WINDOW)
        if person is None:
            return None
        person.mentions.append((start, end))
        person.mentions.sort()
        return person.canonical

    def _nearest_group(self, before: int, labels: tuple[str, ...]) -> Entity | None:
        """The organisation (or group) mentioned last before ``before``, outside
        quotation marks and within ``WINDOW`` characters, with no person named between
        it and the pronoun ("The ministry said … It added" → the ministry; "The ministry
        said … Mr Smith said they…" → nobody)."""
        last_person = max(
            (s for p in self.persons.values() for s, _ in p.mentions if s < before),
            default=-1,
        )
        for ent in reversed(self.entities[:bisect_left(self._starts, before)]):
            if self._inside_quote(ent.start):
                continue
            if before - ent.end > self.WINDOW or ent.start < last_person:
                return None
            if ent.label in labels and self._subject_entity(ent, plural=labels is _THEY):
                return ent
        return None

    def _subject_entity(self, ent: Entity, plural: bool) -> bool:
        """The entity is (the name in) the subject of its clause ("The ministry said",
        "Russia's foreign ministry said"), and plural when "they" points back to it."""
        span = self.sp.char_span(ent.start, ent.end, alignment_mode="expand")
        if span is None:
            return False
        head = span.root
        while head.dep_ in ("compound", "poss", "flat") and head.head is not head:
            head = head.head
        if head.dep_ not in ("nsubj", "nsubjpass"):
            return False
        return not plural or ent.label == "NORP" or head.tag_ in ("NNS", "NNPS")

    def _proper_name(self, start: int, end: int) -> str:
        span = self.sp.char_span(start, end, alignment_mode="expand")
        if span is None:
            return self.text[start:end]
        names = [t for t in span if t.pos_ == "PROPN" and not self.lex.is_title_word(t.lower_)
                 and self.lex.gender_of_word(t.lower_) is None]
        if not names:
            return self.text[start:end]
        return self.text[names[0].idx : names[-1].idx + len(names[-1].text)]

    def _by_surname(self, name: str, before: int) -> Person | None:
        last = name.split()[-1].lower() if name.split() else ""
        best: Person | None = None
        best_pos = -1
        for person in self.persons.values():
            parts = [p.lower() for p in person.canonical.split()]
            if last and last in parts:
                pos = max((s for s, _ in person.mentions if s < before), default=-1)
                if best is None or pos > best_pos:
                    best, best_pos = person, pos
        return best

    def _inside_quote(self, pos: int) -> bool:
        return self.quoted.contains(pos)

    def _nearest(
        self, before: int, gender: str | None = None, described: Description | None = None,
        within: int | None = None,
    ) -> Person | None:
        """The person mentioned last before ``before`` that fits gender and description
        (and was mentioned in the last ``within`` characters, when given).

        Mentions outside quotation marks come first (people quoted about are seldom the
        speaker), and among the people named in the last ``WINDOW`` characters one whose
        gender is known to match comes before a nearer one whose gender is unknown."""
        candidates: list[tuple[int, int, Person]] = []
        for person in self.persons.values():
            if gender is not None and person.gender not in (None, gender):
                continue
            if described is not None and not _fits(person, described):
                continue
            starts = [s for s, _ in person.mentions
                      if s < before and (within is None or before - s <= within)]
            if not starts:
                continue
            outside = [s for s in starts if not self._inside_quote(s)]
            candidates.append((1 if outside else 0, max(outside or starts), person))
        if not candidates:
            return None
        best_outside = max(c[0] for c in candidates)
        pool = [c for c in candidates if c[0] == best_outside]
        nearest = max(pool, key=lambda c: c[1])
        if gender is not None and nearest[2].gender is None:
            known = [c for c in pool
                     if c[2].gender == gender and nearest[1] - c[1] <= self.WINDOW]
            if known:
                return max(known, key=lambda c: c[1])[2]
        return nearest[2]


def _fits(person: Person, desc: Description) -> bool:
    """The text gave ``person`` the title, role or age of the description."""
    if desc.kind == "age":
        return person.age == desc.key
    return desc.key in person.titles or desc.key in person.roles


__all__ = ["FEMALE", "MALE", "Person", "SpeakerResolver"]
