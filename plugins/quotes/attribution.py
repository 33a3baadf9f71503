"""Who said a direct quote: the cue (speech verb or "according to") and the speaker.

For each quoted span found by :mod:`plugins.quotes.marks`, the cue is looked for in the
dependency parse first (a speech verb the quote hangs from, or one hanging from the
quote) and then beside the quote, in the attribution clause before it ("He said: …",
also ending the paragraph before one the quote opens) or after it ("…," he said / said
Okafor), a dash and a name closing the paragraph ('"…" ― Nora Okafor', cue "―"), or a
headline opening with a name and a colon ('Okafor Rejects Plan: “…”'). A denied verb
("did not say") is no cue. The speaker is the subject of the cue (the agent of a
passive, the object of "according to", the relative pronoun of "…, who said"), widened
to its noun phrase; when the parser gave the cue no subject, the noun phrase right
beside it ("added the 30-year-old").

Interrupted quotes ('"We will win," he said, "whatever it takes."') become one quote
from the first opening mark to the last closing mark, with one speaker, when only the
attribution stands between the parts; narration there ("…," she said, pointing to the
empty stands. "…") ends the first part, and the second is a quote of its own. A quote with
no cue of its own inherits the speaker of the quote before it in the same paragraph,
or of the previous paragraph when it opens its paragraph (the newspaper convention).
Scare quotes (one or two words no speech verb governs) and titles of works are dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from copydesk.plugins.quotes.lexicon import Lexicon
from copydesk.plugins.quotes.marks import Quoted, SpanIndex
from copydesk.plugins.quotes.negation import negated
from spacy.tokens import Doc as SpacyDoc
from spacy.tokens import Token

#: Dependency labels that may widen a speaker's head word to its noun phrase (left side).
_NP_LEFT = {"det", "amod", "compound", "poss", "nmod", "nummod", "quantmod", "advmod", "case",
            "predet", "npadvmod"}
#: Right-side modifiers kept in a speaker's noun phrase (names, coordinated speakers).
_NP_RIGHT = {"compound", "flat", "cc", "conj", "nummod", "case"}
_RELATIVE = {"who", "that", "which", "whom"}
_SUBJECTS = {"nsubj", "csubj", "expl"}
_NOT_SPEAKERS = {"this", "that", "which", "there", "what", "these", "those"}
#: How a quote may hang from the verb that governs a one- or two-word quote.
_DIRECT_DEPS = {"dobj", "oprd", "ccomp", "xcomp", "attr", "acomp", "pobj", "appos", "dep",
                "parataxis", "npadvmod", "nsubj", "conj"}
_TERMINAL = set(".!?…")
#: What may stand beside the cue between two parts of one quote: the speaker, a
#: listener, auxiliaries and adverbs ("he later told the paper").
_ATTRIBUTION_PARTS = {"nsubj", "nsubjpass", "agent", "aux", "auxpass", "neg", "advmod",
                      "prt", "dobj", "dative", "npadvmod", "punct"}
#: Words a headline leading into a quote with a colon may have.
_HEADLINE_WORDS = 14
#: Tokens of a prepositional phrase short enough to be part of an attribution.
_SHORT_ADVERBIAL = 4
_NAMING = ("so-called", "so called", "dubbed", "nicknamed", "titled", "entitled",
           "known as", "billed as", "branded as")
_SMALL_WORDS = {"a", "an", "the", "of", "and", "or", "in", "on", "at", "to", "for", "with",
                "from", "by", "is", "as", "vs", "vs.", "de", "la"}


@dataclass
class Attribution:
    """A quote (or reported content) with its cue and speaker, in character offsets."""

    start: int
    end: int
    kind: str
    cue: str | None = None
    cue_tokens: tuple[int, ...] = ()
    speaker: tuple[int, int] | None = None
    speaker_head: int | None = None
    inherited: bool = False


def char_end(token: Token) -> int:
    return token.idx + len(token.text)


def tokens_in(sp: SpacyDoc, start: int, end: int) -> list[Token]:
    """Tokens whose first character lies in ``[start, end)``."""
    span = sp.char_span(start, end, alignment_mode="expand")
    if span is None:
        return []
    return [t for t in span if start <= t.idx < end]


def first_token_at(sp: SpacyDoc, pos: int) -> int:
    """Index of the first token starting at or after character ``pos``."""
    lo, hi = 0, len(sp)
    while lo < hi:
        mid = (lo + hi) // 2
        if sp[mid].idx < pos:
            lo = mid + 1
        else:
            hi = mid
    return lo


def is_cue_verb(token: Token, lex: Lexicon) -> bool:
    """A verb of saying that is not denied ("did not say", "nobody said" cue nothing)."""
    return (token.pos_ in ("VERB", "AUX") and lex.is_speech_verb(token.lemma_)
            and not negated(token))


def according_object(token: Token, lex: Lexicon) -> Token | None:
    """For the first word of an "according to X" phrase, the head word of X."""
    phrase = according_cue(token, lex)
    if phrase is None:
        return None
    last = phrase[-1]
    for child in last.children:
        if child.dep_ in ("pobj", "pcomp", "dobj", "nsubj"):
            return child
    # the parser sometimes hangs the object elsewhere: take the next nominal word
    for t in token.doc[last.i + 1 : last.i + 8]:
        if t.pos_ in ("PROPN", "NOUN", "PRON"):
            return _np_head(t)
    return None


def _np_head(token: Token) -> Token:
    """The head of the noun phrase ``token`` sits in (climbs compounds and modifiers)."""
    while token.dep_ in ("compound", "amod", "det", "poss", "nummod", "flat") and (
        token.head is not token
    ):
        token = token.head
    return token


def according_cue(token: Token, lex: Lexicon) -> tuple[Token, ...] | None:
    """The tokens of an "according to"-style phrase starting at ``token``."""
    for phrase in lex.according_phrases:
        if phrase[0] != token.lower_:
            continue
        if token.i + len(phrase) > len(token.doc):
            continue
        toks = tuple(token.doc[token.i + k] for k in range(len(phrase)))
        if all(t.lower_ == w for t, w in zip(toks, phrase, strict=True)):
            return toks
    return None


def noun_phrase(token: Token) -> tuple[int, int]:
    """Character span of the noun phrase headed by ``token`` (no relative clauses)."""
    left, right = _np_bounds(token)
    return left.idx, char_end(right)


def _np_bounds(token: Token) -> tuple[Token, Token]:
    left = token
    for child in token.lefts:
        if child.dep_ in _NP_LEFT:
            left = min(left, child.left_edge, key=lambda t: t.i)
    right = token
    for child in token.rights:
        if child.dep_ in _NP_RIGHT:
            right = max(right, child.right_edge if child.dep_ == "conj" else child,
                        key=lambda t: t.i)
        elif child.dep_ == "prep" and child.lower_ == "of" and token.pos_ == "NOUN":
            # "head of the regional water board", "spokesman for…" stays short
            right = max(right, child.right_edge, key=lambda t: t.i)
        elif _close_appos(child):
            # "deputy mayor Ana Lucia Ferreira": the name is part of it
            right = max(right, child, key=lambda t: t.i)
    if _close_appos(token):
        left = min(left, _np_bounds(token.head)[0], key=lambda t: t.i)
    doc = token.doc
    while left.i < right.i and (left.is_punct or left.is_space):
        left = doc[left.i + 1]
    while right.i > left.i and (right.is_punct or right.is_space or right.dep_ == "cc"):
        right = doc[right.i - 1]
    return left, right


def _close_appos(token: Token) -> bool:
    """A name in apposition right after its title, with no comma between."""
    head = token.head
    return (token.dep_ == "appos" and token.pos_ == "PROPN" and head.i < token.i
            and not any(t.is_punct for t in token.doc[head.i + 1 : token.left_edge.i]))


def _named(token: Token) -> Token:
    """The name in apposition to a title ("deputy mayor Ana … Ferreira")."""
    for child in token.rights:
        if _close_appos(child):
            return child
    return token


def relative_subject(token: Token) -> bool:
    """The relative pronoun subject of a relative clause ("the mayor, who said…", "a
    group that wants…"): a speaker mention whose person is the noun it hangs from."""
    if token.dep_ not in ("nsubj", "nsubjpass") or token.head.dep_ != "relcl":
        return False
    if token.lower_ == "that":
        # "that" is often a complementizer the parser took for a subject: only right
        # after the noun the clause hangs from ("a group that wants…") is it relative
        return token.i > 0 and token.doc[token.i - 1].i == token.head.head.i
    return token.lower_ in _RELATIVE or token.tag_ in ("WP", "WDT")


def speaker_of(cue: Token, lex: Lexicon) -> Token | None:
    """The word naming who speaks through ``cue`` (a speech verb), or None."""
    verb = cue
    for _ in range(3):
        passive = None
        for child in verb.children:
            if not child.text[:1].isalnum():
                continue  # a dash or quotation mark the parser made a subject
            if relative_subject(child):
                return child  # "the senator, who said…": the mention is "who"
            if child.dep_ in _SUBJECTS and child.lower_ not in _NOT_SPEAKERS:
                if child.lower_ in _RELATIVE or child.tag_ in ("WP", "WDT"):
                    return None  # a question: "who said so?"
                return _named(child)
            if child.dep_ == "nsubjpass":
                passive = child
        if passive is not None:
            for child in verb.children:
                if child.dep_ == "agent":
                    for obj in child.children:
                        if obj.dep_ == "pobj":
                            return obj
            return None
        if verb.dep_ == "relcl" and verb.head.pos_ in ("PROPN", "NOUN"):
            return verb.head
        if verb.dep_ in ("conj", "xcomp", "advcl") and verb.head is not verb:
            verb = verb.head
            continue
        break
    return None


@dataclass
class _Cue:
    tokens: tuple[Token, ...]
    speaker: Token | None
    direct: bool  # the quote hangs from the cue in the parse (or the cue from the quote)
    steps: int
    #: The speaker's span when it was found by position rather than by the parse.
    speaker_span: tuple[int, int] | None = None
    #: The cue's text when it is not the tokens' text (a dash glued to a quote mark).
    text: str | None = None


_NAME_POS = {"PROPN", "NOUN", "PRON"}
_NAME_INNER = {"PROPN", "NOUN", "ADJ", "DET", "NUM", "PART"}
_DASHES = {"―", "—", "–", "-", "--"}


def _title_case(words: Sequence[str]) -> bool:
    """Every content word capitalised (small words like "of" and "the" aside)."""
    content = [w for w in words if w.lower() not in _SMALL_WORDS and w[:1].isalpha()]
    return bool(content) and all(w[:1].isupper() for w in content)


def _name_word(token: Token) -> bool:
    """A word of a person's name: a proper noun, an initial ("A."), or inside a name."""
    text = token.text
    return (token.pos_ == "PROPN" or token.ent_type_ in ("PERSON", "ORG")
            or (len(text) == 2 and text[0].isupper() and text[1] == "."))


def _before_aside(doc: SpacyDoc, i: int, lo: int, opener: str, reach: int) -> int:
    """From the token ``i`` closing an aside, the token before the aside's ``opener``
    (at most ``reach`` tokens back, none before character ``lo``); else ``i``."""
    k = i - 1
    while k >= 0 and doc[k].idx >= lo and i - k <= reach and doc[k].text != opener:
        k -= 1
    if k >= 1 and doc[k].text == opener and doc[k - 1].idx >= lo:
        return k - 1
    return i


def positional_speaker(
    cue: Token, lo: int, hi: int
) -> tuple[Token, tuple[int, int]] | None:
    """The noun phrase right before the cue, or right after it ("said Okafor"), when
    the parse gave the cue no subject. ``lo``/``hi`` bound the search (character offsets)."""
    doc = cue.doc
    i = cue.i - 1
    while i >= 0 and doc[i].dep_ in ("aux", "neg", "advmod") and doc[i].idx >= lo:
        i -= 1
    # "Sen. Ann B. Porter (R-Ohio) said", then "Porter, a veteran of the committee, said":
    # the name before the parenthesis or the appositive
    for closer, opener, reach in ((")", "(", 8), (",", ",", 10)):
        if i >= 0 and doc[i].text == closer and doc[i].idx >= lo:
            i = _before_aside(doc, i, lo, opener, reach)
    if i >= 0 and doc[i].idx >= lo and doc[i].pos_ in _NAME_POS and not doc[i].is_punct:
        head = doc[i]
        j = i
        while j - 1 >= 0 and doc[j - 1].idx >= lo and (
            doc[j - 1].pos_ in _NAME_INNER or doc[j - 1].text == "."
        ) and not doc[j - 1].is_space:
            j -= 1
        while j < i and (doc[j].is_punct or (doc[j].pos_ == "DET" and doc[j].lower_ != "the")):
            j += 1
        return head, (doc[j].idx, char_end(head))
    k = cue.i + 1
    if k < len(doc) and char_end(doc[k]) <= hi and doc[k].pos_ in _NAME_POS | {"DET"} and (
        doc[k].ent_type_ not in ("DATE", "TIME")
    ):
        j = k
        while j + 1 < len(doc) and char_end(doc[j + 1]) <= hi and (
            doc[j + 1].pos_ in ("PROPN", "NOUN", "NUM", "ADJ") or _glued_hyphen(doc[j + 1])
            or (doc[j + 1].text == "." and doc[j].pos_ == "PROPN" and len(doc[j].text) <= 2)
        ):
            j += 1
        while j > k and (doc[j].is_punct or (doc[j].pos_ == "ADJ" and not _age(doc[j]))):
            j -= 1
        head = doc[j]
        if head.pos_ in _NAME_POS or _age(head):
            return head, (doc[k].idx, char_end(head))
    return None


def _glued_hyphen(token: Token) -> bool:
    """A hyphen inside a compound word ("30-year-old", "long-time")."""
    doc = token.doc
    return (token.text == "-" and not token.whitespace_ and token.i > 0
            and not doc[token.i - 1].whitespace_)


def _age(token: Token) -> bool:
    """The last word of an "N-year-old" description, which names a person."""
    doc = token.doc
    return token.lower_ == "old" and token.i > 0 and _glued_hyphen(doc[token.i - 1])


def _cue_text(tokens: Sequence[Token]) -> str:
    doc = tokens[0].doc
    return doc[tokens[0].i : tokens[-1].i + 1].text


def _particles(verb: Token) -> tuple[Token, ...]:
    """The verb with its particle ("point out", "sum up")."""
    parts = [verb] + [c for c in verb.rights if c.dep_ == "prt"]
    return tuple(sorted(parts, key=lambda t: t.i))


class DirectAttributor:
    """Attributes the quoted spans of one parsed document."""

    def __init__(self, sp: SpacyDoc, lex: Lexicon, max_scare_words: int = 2) -> None:
        self.sp = sp
        self.text = sp.text
        self.lex = lex
        self.max_scare_words = max_scare_words
        self._quoted = SpanIndex([])

    # -- helpers ---------------------------------------------------------------------

    def _in_quote(self, token: Token) -> bool:
        return self._quoted.contains(token.idx)

    def _paragraph(self, pos: int) -> tuple[int, int]:
        start = self.text.rfind("\n", 0, pos) + 1
        end = self.text.find("\n", pos)
        return start, len(self.text) if end < 0 else end

    def _speaker_ok(self, token: Token | None, quote: tuple[int, int]) -> bool:
        if token is None:
            return False
        if quote[0] <= token.idx < quote[1] or self._in_quote(token):
            return False  # words inside quotation marks do not name who speaks
        return ((token.lower_ not in _NOT_SPEAKERS or relative_subject(token))
                and not token.is_punct and token.text[:1].isalnum())

    # -- cue search --------------------------------------------------------------------

    def _syntactic_cue(self, qtoks: list[Token], span: tuple[int, int]) -> _Cue | None:
        inside = {t.i for t in qtoks}
        best: _Cue | None = None
        roots = [t for t in qtoks if t.head.i not in inside and not t.is_punct]
        if not roots:
            roots = [t for t in qtoks if t.head.i not in inside]
        for root in roots:
            node = root
            for step in range(1, 5):
                head = node.head
                if head is node or head.i in inside:
                    break
                if self._in_quote(head):
                    break
                # "according" is the head of "to" in spaCy's parse: the phrase starts there
                phrase = according_cue(head, self.lex)
                if phrase is not None:
                    obj = according_object(phrase[0], self.lex)
                    cand = _Cue(phrase, obj, step <= 2, step)
                elif is_cue_verb(head, self.lex):
                    # the verb takes the quoted words as its own: its object or complement,
                    # or through a preposition ("praised … as an “achievement”")
                    takes = (step == 1 and root.dep_ in _DIRECT_DEPS | {"punct"}) or (
                        step == 2 and node.pos_ == "ADP")
                    cand = _Cue(_particles(head), speaker_of(head, self.lex), takes, step)
                else:
                    node = head
                    continue
                if best is None or cand.steps < best.steps:
                    best = cand
                break
        # the parser may hang the speech verb from the quote instead
        for tok in qtoks:
            for child in tok.children:
                if child.i in inside or self._in_quote(child):
                    continue
                if is_cue_verb(child, self.lex) and child.dep_ in (
                    "parataxis", "ccomp", "advcl", "conj", "dep", "relcl"
                ):
                    spk = speaker_of(child, self.lex)
                    if spk is not None and (best is None or best.speaker is None):
                        best = _Cue(_particles(child), spk, True, 1)
        if best is not None and not self._speaker_ok(best.speaker, span):
            best.speaker = None
        return best

    def _window_cue(self, q: Quoted, span: tuple[int, int]) -> _Cue | None:
        """A cue in the attribution clause right after or right before the quote."""
        para_start, para_end = self._paragraph(span[0])
        inner = self.text[q.inner_start : q.inner_end].rstrip()
        ends_sentence = bool(inner) and inner[-1] in "."
        after = self._after_window(span[1], para_end)
        dash = self._dash_credit(after, span[1])
        if dash is not None:
            return dash
        if after:
            first_word = next((t for t in after if not t.is_punct), None)
            lower_start = first_word is not None and first_word.text[:1].islower()
            cue = self._cue_in(after, prefer="first")
            if cue is not None:
                self._fill_positional(cue, span)
            if cue is not None and (not ends_sentence or lower_start):
                has_own = any(c.dep_ in ("ccomp",) and not self._in_quote(c)
                              for c in cue.tokens[0].children)
                if not has_own and self._speaker_ok(cue.speaker, span):
                    return cue
        before = self._before_window(span[0], para_start)
        if not before and not self.text[para_start : span[0]].strip():
            before = self._lead_in(para_start)
        if before:
            cue = self._cue_in(before, prefer="last")
            if cue is not None:
                self._fill_positional(cue, span)
            if cue is not None and self._speaker_ok(cue.speaker, span):
                return cue
            return self._headline_credit(before, span)
        return None

    def _headline_credit(self, before: list[Token], span: tuple[int, int]) -> _Cue | None:
        """'Mayor Okafor Slams Budget: “We Were Never Asked”': a line that opens with a
        name, has no sentence end and leads into the quote with a colon credits the
        quote to the name."""
        if len(before) < 2 or before[-1].text != ":" or len(before) > _HEADLINE_WORDS:
            return None
        first = before[0]
        if self.text[self._paragraph(first.idx)[0] : first.idx].strip():
            return None  # the line must open with the name
        names: list[Token] = []
        for tok in before[:-1]:
            if not _name_word(tok) or tok.is_punct:
                break
            names.append(tok)
        if not names or any(t.text in _TERMINAL for t in before):
            return None
        head = names[-1]
        if not self._speaker_ok(head, span):
            return None
        return _Cue((before[-1],), head, True, 1, (names[0].idx, char_end(head)))

    def _lead_in(self, para_start: int) -> list[Token]:
        """'She said:' ending the paragraph before one that a quote opens: the clause
        that leads into it (empty when the paragraph before ends otherwise)."""
        end = len(self.text[:para_start].rstrip())
        if end == 0 or self.text[end - 1] != ":":
            return []
        prev_start, _ = self._paragraph(end - 1)
        return self._before_window(end, prev_start)

    def _dash_credit(self, after: list[Token], pos: int) -> _Cue | None:
        """'“…” ― Nora Okafor': a dash and a name close the quote's paragraph."""
        words = [t for t in after if not t.is_space]
        if not words:
            return None
        if words[0].text in _DASHES:
            dash, rest = words[0], words[1:]
        elif self.text[pos : words[0].idx].strip() in _DASHES and pos > 0:
            # the tokenizer glued the dash to the closing mark ('”―'): it lies before pos
            glued = self.sp[max(0, words[0].i - 1)]
            dash, rest = glued, words
        else:
            return None
        if not rest:
            return None
        names: list[Token] = []
        for t in rest:
            if _name_word(t) or (names and t.text == "." and len(names[-1].text) <= 2):
                names.append(t)
            else:
                break
        if not names or any(not t.is_punct for t in rest[len(names):]):
            return None
        head = [t for t in names if _name_word(t)][-1]
        return _Cue((dash,), head, True, 1, (names[0].idx, char_end(head)),
                    text=dash.text.strip("”\"’'"))

    def _fill_positional(self, cue: _Cue, span: tuple[int, int]) -> None:
        """Give a subjectless cue verb the noun phrase beside it (a parser slip)."""
        verb = cue.tokens[0]
        if cue.speaker is not None or verb.pos_ not in ("VERB", "AUX"):
            return
        para_start, para_end = self._paragraph(verb.idx)
        if verb.idx >= span[1]:
            lo, hi = span[1], min(para_end, verb.sent.end_char)
        else:
            lo, hi = max(para_start, verb.sent.start_char), span[0]
        found = positional_speaker(verb, lo, hi)
        if found is not None and self._speaker_ok(found[0], span):
            cue.speaker, cue.speaker_span = found

    def _after_window(self, pos: int, para_end: int) -> list[Token]:
        toks: list[Token] = []
        for t in self.sp[first_token_at(self.sp, pos) :]:
            if t.idx < pos:
                continue
            if t.idx >= para_end or self._in_quote(t) or t.text in ('"', "“", "‘"):
                break
            if t.text in (".", "!", "?", ";") or len(toks) >= 14:
                break
            toks.append(t)
        return toks

    def _before_window(self, pos: int, para_start: int) -> list[Token]:
        toks: list[Token] = []
        start_tok = self.sp.char_span(pos, pos + 1, alignment_mode="expand")
        if start_tok is None:
            return []
        i = start_tok[0].i - 1
        while i >= 0:
            t = self.sp[i]
            if t.idx < para_start or self._in_quote(t) or t.text in (".", "!", "?", ";", "”"):
                break
            if len(toks) >= 20:
                break
            toks.append(t)
            i -= 1
        toks.reverse()
        # the clause must lead into the quote: "He said:", "…, warning that", "said"
        if toks:
            last = toks[-1]
            if not (last.text in (":", ",", "—", "–", "-") or last.lower_ == "that"
                    or is_cue_verb(last, self.lex)):
                return []
        return toks

    def _cue_in(self, toks: list[Token], prefer: str) -> _Cue | None:
        found: list[_Cue] = []
        for t in toks:
            phrase = according_cue(t, self.lex)
            if phrase is not None:
                found.append(_Cue(phrase, according_object(t, self.lex), False, 0))
            elif is_cue_verb(t, self.lex):
                found.append(_Cue(_particles(t), speaker_of(t, self.lex), False, 0))
        found = [c for c in found if c.speaker is not None] or found
        if not found:
            return None
        return found[0] if prefer == "first" else found[-1]

    # -- the quote kinds ---------------------------------------------------------------

    def _word_count(self, q: Quoted) -> int:
        return len([w for w in q.inner(self.text).split() if any(c.isalnum() for c in w)])

    def _listener(self, qtoks: list[Token], cue: _Cue | None) -> bool:
        """'Porter told "Breakfast Live"': the quoted words are who was told, not speech."""
        if cue is None or cue.tokens[0].lemma_.lower() != "tell":
            return False
        verb = cue.tokens[0]
        return any(t.head.i == verb.i and t.dep_ in ("dobj", "dative") for t in qtoks)

    def _named_before(self, q: Quoted) -> bool:
        """'so-called "one-euro jobs"', 'a film titled "…"': a name, not words spoken."""
        before = self.text[max(0, q.start - 30) : q.start].rstrip().lower()
        return before.endswith(_NAMING)

    def looks_like_title(self, q: Quoted) -> bool:
        """Title Case with no sentence punctuation: a book, film, song or programme."""
        inner = q.inner(self.text).strip().rstrip(",")
        terminal = inner[-1:] in _TERMINAL
        inner = inner.rstrip(".!?…,")
        words = inner.split()
        # 'Winter Comes Early.': a headline keeps its full stop inside the marks
        if len(words) < (3 if terminal else 2):
            return False
        if any(ch in inner for ch in ",;:"):
            return False
        if not _title_case(words):
            return False
        # in a headline every word is capitalised: there Title Case says nothing
        para_start, para_end = self._paragraph(q.start)
        around = (self.text[para_start : q.start] + " " + self.text[q.end : para_end]).split()
        return not (len(around) >= 3 and _title_case(around))

    # -- main --------------------------------------------------------------------------

    def attribute(self, quoted: Iterable[Quoted]) -> list[Attribution]:
        quotes = sorted(quoted, key=lambda q: q.start)
        self._quoted = SpanIndex((q.start, q.end) for q in quotes)
        found: list[tuple[Quoted, _Cue | None]] = []
        for q in quotes:
            span = (q.start, q.end)
            qtoks = tokens_in(self.sp, q.start, q.end)
            if not qtoks:
                continue
            cue = self._syntactic_cue(qtoks, span)
            if cue is not None:
                self._fill_positional(cue, span)
            if cue is None or cue.speaker is None:
                window = self._window_cue(q, span)  # filled in and speaker-checked
                if window is not None and (cue is None or window.speaker is not None):
                    cue = window
            short = self._word_count(q) <= self.max_scare_words
            named = self._named_before(q) or self._listener(qtoks, cue)
            if short and (named or cue is None or not cue.direct or cue.speaker is None):
                continue  # a scare quote: no speech verb takes these words as its own
            if self.looks_like_title(q) and (named or cue is None or not cue.direct):
                continue
            found.append((q, cue))
        return self._merge_and_inherit(found)

    def _merge_and_inherit(self, found: list[tuple[Quoted, _Cue | None]]) -> list[Attribution]:
        out: list[Attribution] = []
        prev_q: Quoted | None = None
        for q, cue in found:
            last = out[-1] if out else None
            same_para = (
                last is not None and prev_q is not None
                and "\n" not in self.text[prev_q.end : q.start]
            )
            if last is not None and same_para and self._interrupts(last, q, cue):
                last.end = q.end
                prev_q = q
                continue
            att = Attribution(start=q.start, end=q.end, kind="direct")
            if cue is not None:
                att.cue = cue.text or _cue_text(cue.tokens)
                att.cue_tokens = tuple(t.i for t in cue.tokens)
                if cue.speaker is not None:
                    att.speaker = cue.speaker_span or noun_phrase(cue.speaker)
                    att.speaker_head = cue.speaker.i
            elif last is not None and last.speaker is not None and self._continues(last, q):
                att.cue, att.cue_tokens = last.cue, last.cue_tokens
                att.speaker, att.speaker_head = last.speaker, last.speaker_head
                att.inherited = True
            out.append(att)
            prev_q = q
        return out

    def _interrupts(self, last: Attribution, q: Quoted, cue: _Cue | None) -> bool:
        """True when ``q`` continues ``last`` after an attribution clause between them."""
        if not last.cue_tokens or last.inherited:
            return False
        cue_start = self.sp[last.cue_tokens[0]].idx
        if not (last.end <= cue_start < q.start):
            return False
        gap = self.text[last.end : q.start]
        ends = [t for t in tokens_in(self.sp, last.end, q.start) if t.text in (".", "!", "?")]
        if len(gap) > 160 or len(ends) > 1:
            return False
        if not self._bare_attribution(last, q):
            return False  # narration between the parts is not quoted speech
        if cue is None:
            return True
        return tuple(t.i for t in cue.tokens) == last.cue_tokens

    def _bare_attribution(self, last: Attribution, q: Quoted) -> bool:
        """Between two parts of a quote stands only the attribution: the cue, its
        speaker, a listener, a short adverbial ("he said on Monday"), punctuation. A
        clause of the reporter's own ("added Diaz, pointing to the empty stands")
        ends the quote."""
        cue = {self.sp[i] for i in last.cue_tokens}
        allowed: set[int] = {t.i for t in cue}
        for verb in cue:
            for child in verb.children:
                sub = list(child.subtree)
                if child.dep_ in _ATTRIBUTION_PARTS or (
                        child.dep_ == "prep" and len(sub) <= _SHORT_ADVERBIAL):
                    allowed.update(t.i for t in sub)
        if last.speaker is not None:
            allowed.update(t.i for t in tokens_in(self.sp, *last.speaker))
        return all(t.i in allowed or t.is_punct or t.is_space
                   for t in tokens_in(self.sp, last.end, q.start))

    def _continues(self, last: Attribution, q: Quoted) -> bool:
        """An unattributed quote right after an attributed one keeps its speaker."""
        between = self.text[last.end : q.start]
        if between.count("\n") == 0:
            return True
        para_start, _ = self._paragraph(q.start)
        opens_paragraph = not self.text[para_start : q.start].strip()
        prev_para_start, _ = self._paragraph(last.end - 1)
        # the previous paragraph must be the one right before (blank lines aside)
        middle = self.text[last.end : para_start]
        return opens_paragraph and middle.count("\n") >= 1 and not any(
            line.strip() for line in middle.split("\n")[1:]
        ) and prev_para_start < para_start
