"""Descriptions of people: what a text calls a person besides their name.

News text names a person once and then describes them: "the defender", "the minister",
"the 41-year-old", "the veteran". This module reads both sides of that habit:

- :func:`describe` tells whether a speaker mention such as "the goalkeeper" is a
  definite description of one person (by title, role or age), and which;
- :func:`described_as` collects what the text says beside a name ("Goalkeeper Ana
  Silva, 41,", "Ana Silva, the club captain,", "the 41-year-old Ana Silva") so that a
  later description can be matched to the right person.

Organisations and texts described the same way ("the club", "the statement") are not
people and get no description here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from copydesk.plugins.quotes.lexicon import Lexicon
from spacy.tokens import Span, Token

#: Endings of English nouns for a person by what they do ("defender", "economist",
#: "spokesman", "librarian", "attendant", "trustee").
_PERSON_ENDINGS = ("er", "or", "ist", "ian", "ant", "ent", "man", "woman", "person",
                   "eer", "ee", "ster", "ive", "arch", "crat", "ite")
#: Nouns with a person's ending that name things or bodies.
_NOT_ENDINGS = ("ment",)
_AGE_BEFORE = re.compile(r"\b(\d{1,3})-year-old(?:\s+[\w.'’-]+){0,3}\s*$")
_DEFINITE = {"the", "this", "that"}


@dataclass(frozen=True)
class Description:
    """A definite description of one person: by ``title`` ("the minister"), by
    ``role`` ("the defender") or by ``age`` ("the 30-year-old", key "30")."""

    kind: str
    key: str
    gender: str | None = None


def age_of(token: Token) -> str | None:
    """For the last word of "N-year-old" (``old``), N; else None."""
    doc = token.doc
    if token.lower_ != "old" or token.i < 4:
        return None
    window = doc[token.i - 4 : token.i]
    words = [t.text for t in window]
    if words[1:] == ["-", "year", "-"] and words[0].isdigit():
        return words[0]
    return None


def _person_noun(head: Token, lex: Lexicon) -> bool:
    lemma = head.lemma_.lower()
    if not _person_noun_word(lemma, lex):
        return False
    if lex.is_title(lemma) or lex.gender_of_word(lemma) is not None:
        return True
    return _person_ending(lemma)


def _person_ending(word: str) -> bool:
    return word.endswith(_PERSON_ENDINGS) and not word.endswith(_NOT_ENDINGS)


def describe(head: Token, lex: Lexicon, known_roles: set[str] | None = None) -> (
    Description | None
):
    """The description a speaker mention headed by ``head`` gives, or None.

    Only definite, singular mentions describe one person already named ("the coach",
    not "a coach" or "the coaches"). A role word the text has used beside a name
    (``known_roles``) counts even when its form says nothing ("the veteran")."""
    dets = [c for c in head.lefts if c.dep_ == "det"]
    if not dets or dets[0].lower_ not in _DEFINITE:
        return None
    age = age_of(head)
    if age is not None:
        return Description("age", age)
    if head.pos_ != "NOUN" or head.tag_ in ("NNS", "NNPS"):
        return None
    lemma = head.lemma_.lower()
    gender = lex.gender_of_word(lemma)
    if lex.is_title(lemma):
        return Description("title", lemma, gender)
    if _person_noun(head, lex) or lemma in (known_roles or set()):
        return Description("role", lemma, gender)
    return None


def described_as(name: Span, lex: Lexicon) -> tuple[set[str], str | None]:
    """The role words and the age the text gives beside the name ``name``.

    Role words: nouns right before the name ("defender Ana Silva"), a noun in
    apposition ("Ana Silva, the club captain,"; "the captain, Ana Silva,"). Age: a
    number in apposition ("Ana Silva, 41,") or "41-year-old" before the name."""
    roles: set[str] = set()
    age: str | None = None
    doc = name.doc
    i = name.start - 1
    while i >= 0 and name.start - i <= 4:
        tok = doc[i]
        if tok.is_space or (tok.is_punct and tok.text != "-"):
            break
        if tok.pos_ == "NOUN" and tok.tag_ not in ("NNS", "NNPS"):
            roles.add(tok.lemma_.lower())
        elif tok.pos_ == "PROPN" and _person_ending(tok.lower_):
            roles.add(tok.lower_)  # "Goalkeeper Ana Silva" opening a sentence
        elif tok.pos_ not in ("ADJ", "PROPN", "NUM", "PUNCT", "DET"):
            break
        i -= 1
    before = doc[max(0, name.start - 10) : name.start].text  # (Doc.text costs the doc)
    found = _AGE_BEFORE.search(before)
    if found:
        age = found.group(1)
    root = name.root
    for child in root.children:
        if child.dep_ != "appos":
            continue
        if child.pos_ == "NUM" and child.text.isdigit() and 0 < int(child.text) < 120:
            age = child.text
        elif child.pos_ == "NOUN":
            roles.add(child.lemma_.lower())
    if root.dep_ == "appos" and root.head.pos_ == "NOUN":
        roles.add(root.head.lemma_.lower())
    return {r for r in roles if _person_noun_word(r, lex)}, age


def _person_noun_word(lemma: str, lex: Lexicon) -> bool:
    """A role word that may describe a person (not a body, a text or a thing said)."""
    return not (lemma in lex.group_nouns or lemma in lex.source_nouns
                or lemma in lex.speech_nouns)
