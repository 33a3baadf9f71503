"""Negated cues: a verb of saying that says nobody said anything attributes nothing.

"The club has not confirmed the fee", "He never said he would stay", "Nobody has
announced a date", "Neither the union nor the employers have signalled a change": the
verb is denied (a negation hangs from it) or its subject is a negative phrase (no,
none, nobody, neither … nor). A verb joined to a negated one shares its subject
("Neither side has called for talks or offered terms") and so its negation of the
subject, but not of the verb.

Verbs of belief that carry their negation into the clause ("I don't think the plan will
work" says the plan will not work) are still reported when denied; the stage decides
that with :func:`denied` and :func:`names_nobody` apart.
"""

from __future__ import annotations

from spacy.tokens import Token

#: Adverbs that deny the verb they modify (spaCy labels most of them ``neg``).
_DENYING = {"not", "n't", "never", "no"}
#: Subjects that name nobody.
_NOBODY = {"nobody", "none", "no-one", "noone", "nothing", "neither"}
#: Determiners and pre-conjunctions that make a subject name nobody ("no minister",
#: "neither side", "neither Paris nor Rome").
_NO_DETERMINERS = {"no", "neither"}
_SUBJECTS = ("nsubj", "nsubjpass")
#: How many words a denial may stand before its verb ("did not immediately say").
_REACH = 3


def _negative_subject(subject: Token) -> bool:
    if subject.lower_ in _NOBODY:
        return True
    if subject.lower_ == "one" and any(c.lower_ == "no" for c in subject.lefts):
        return True  # "no one"
    return any(c.dep_ in ("det", "preconj", "neg") and c.lower_ in _NO_DETERMINERS
               for c in subject.children)


def _denied(verb: Token) -> bool:
    """A negation right before the verb, in its own clause ("has not said", "did not
    immediately confirm"). One the parser hung on the verb from elsewhere (the end of a
    quotation before it: '"Not yet," she said') is no denial."""
    doc = verb.doc
    for child in verb.children:
        if not (child.dep_ == "neg" or (child.dep_ == "advmod" and child.lower_ in _DENYING)):
            continue
        if verb.i - _REACH <= child.i < verb.i and not any(
                t.is_punct for t in doc[child.i + 1 : verb.i]):
            return True
    return False


def negated(verb: Token) -> bool:
    """True when ``verb`` is denied, or its subject (its own, or shared with the verb it
    is joined to) names nobody."""
    return _denied(verb) or names_nobody(verb)


def denied(verb: Token) -> bool:
    """A negation stands right before ``verb`` ("did not say", "never confirmed")."""
    return _denied(verb)


def names_nobody(verb: Token) -> bool:
    """The subject of ``verb`` (its own, or shared with the verb it is joined to) names
    nobody ("nobody has said", "neither side has called for")."""
    node = verb
    for _ in range(3):
        subjects = [c for c in node.children if c.dep_ in _SUBJECTS]
        if subjects:
            return any(_negative_subject(s) for s in subjects)
        if node.dep_ != "conj" or node.head is node:
            return False
        node = node.head
    return False
