"""Reported speech: indirect quotes and "according to" attributions.

- ``indirect``: a verb of saying or believing with a clause as its complement ("X said
  that …", "…, sources said"), a verb of saying or intending with its "to"-infinitive
  ("vowed to fight on", "urged the government to act"), a verb + preposition cue whose
  object is the content ("the union is calling for a pay rise", "accused the mayor of
  stalling"), a verb whose noun-phrase object is the content ("criticised the new tax",
  "Surveys show the incumbent ahead"; passive: "was backed by the local paper"), a
  naming verb with its object and what it is called ("called it a broken system",
  "took the remark as an insult"), an owned speech noun ("the mayor's claim that …",
  "his criticism of the plan", "her pledge to …"), a participle after a text ("a letter
  calling the fine unfair"), and transcript turns ("HOST: Well, …").
  The content is the complement; the speaker the verb's subject (or the noun's owner).
- ``according_to``: "according to X" (and phrases like it): the content is the rest of
  the sentence, the source is X.

Content that is a direct quote (mostly inside marks and opening inside them) is left to
the direct-quote attribution. Every word list is in ``cues.toml``.
"""

from __future__ import annotations

from copydesk.plugins.quotes.attribution import (
    Attribution,
    according_cue,
    according_object,
    char_end,
    noun_phrase,
    positional_speaker,
    relative_subject,
    speaker_of,
)
from copydesk.plugins.quotes.lexicon import Lexicon
from copydesk.plugins.quotes.marks import SpanIndex
from copydesk.plugins.quotes.negation import denied, names_nobody
from spacy.tokens import Doc as SpacyDoc
from spacy.tokens import Span as SpacySpan
from spacy.tokens import Token

_NOT_SOURCES = {"it", "this", "that", "which", "there", "what", "who", "these", "those",
                "one", "you"}
_TRIM = set(" \t\n,;:—–-")
_MARKS = set("\"“”‘’'«»„")
#: Pronoun objects that stand for a person or group criticized, backed, defended…
_PERSONAL_OBJECTS = {"him", "her", "them", "us", "me", "himself", "herself", "themselves"}
#: Objects that only point at content said elsewhere.
_NOT_CONTENT = {"it", "this", "that", "them", "which", "what", "something", "anything",
                "nothing", "everything", "so"}
#: Prepositions that add to a demand rather than qualify the verb.
_ADDING = {"along", "together", "including", "plus", "alongside"}


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in _TRIM:
        start += 1
    while end > start and (text[end - 1] in _TRIM or text[end - 1] in ".!?"):
        end -= 1
    return start, end


def _subtree_span(token: Token) -> tuple[int, int]:
    return token.left_edge.idx, char_end(token.right_edge)


class ReportedFinder:
    """Finds indirect and according-to attributions in one parsed document."""

    #: Content quoted at least this much is the direct quote's, not reported speech
    #: (below it, e.g. 'said that voters have grown “tired of waiting…”', both are kept).
    QUOTED_SHARE = 0.85

    def __init__(
        self,
        sp: SpacyDoc,
        lex: Lexicon,
        quoted: list[tuple[int, int]],
        direct_cues: set[int] | None = None,
    ) -> None:
        self.sp = sp
        self.text = sp.text
        self.lex = lex
        self.quoted = SpanIndex(quoted)
        #: Tokens already cueing a direct quote: content around them is that quote's.
        self.direct_cues = direct_cues or set()

    def _in_quote(self, pos: int) -> bool:
        return self.quoted.contains(pos)

    def _mostly_quoted(self, span: tuple[int, int]) -> bool:
        """Content that is a direct quote: mostly inside marks and opening inside them.
        'says that “the rules were broken …”' opens with words of the reporter's own and
        stays reported speech beside the direct quote it contains."""
        length = max(1, span[1] - span[0])
        covered = self.quoted.covered(*span)
        if covered / length <= self.QUOTED_SHARE:
            return False
        first = self.text[span[0]]
        return first in _MARKS or self._in_quote(span[0])

    def _source_ok(self, token: Token | None) -> bool:
        return (
            token is not None
            and (token.lower_ not in _NOT_SOURCES or relative_subject(token))
            and not token.is_punct
            and token.text[:1].isalnum()
            and token.pos_ in ("PROPN", "NOUN", "PRON", "NUM", "X")
        )

    def find(self) -> list[Attribution]:
        out: list[Attribution] = []
        seen: set[tuple[int, int]] = set()
        for tok in self.sp:
            if self._in_quote(tok.idx):
                continue
            for att in self._at(tok):
                key = (att.start, att.end)
                if key in seen or att.end - att.start < 3:
                    continue
                if self._mostly_quoted(key):
                    continue
                seen.add(key)
                out.append(att)
        for att in self._colon_credits():
            key = (att.start, att.end)
            # a turn inside a quoted transcript is the named speaker's, not the quote's
            name = att.speaker[0] if att.speaker else att.start
            turn = self.text[name - 1 : name] in _MARKS or self._in_quote(name)
            if key not in seen and (turn or not self._mostly_quoted(key)):
                seen.add(key)
                out.append(att)
        out.sort(key=lambda a: a.start)
        return out

    def _colon_credits(self) -> list[Attribution]:
        """'Mayor: Budget Vote Moved to Friday': a paragraph that opens with a
        name and a colon reports the rest of the paragraph."""
        out = []
        for sent in self.sp.sents:
            first = sent[0]
            # a transcript turn may open with a quotation mark ('"HOST: Welcome back…')
            while (first.is_space or first.text in _MARKS) and first.i + 1 < sent.end:
                first = self.sp[first.i + 1]
            para_start = self.text.rfind("\n", 0, first.idx) + 1
            if self.text[para_start : first.idx].strip(" \t" + "".join(_MARKS)):
                continue  # not the start of a paragraph
            names: list[Token] = []
            colon: Token | None = None
            for tok in self.sp[first.i : min(sent.end, first.i + 5)]:
                if tok.text == ":":
                    colon = tok
                    break
                if tok.ent_type_ in ("PERSON", "ORG", "NORP", "GPE") or tok.pos_ == "PROPN":
                    # all-capitals labels ("CLARIFICATION:") are in the colon word list;
                    # an all-capitals name is a transcript turn ("GUEST: Well, first…")
                    names.append(tok)
                else:
                    break
            if colon is None or not names:
                continue
            label = self.text[names[0].idx : char_end(names[-1])]
            if label.lower() in self.lex.colon_labels:
                continue
            line_end = self.text.find("\n", colon.idx)
            end = len(self.text) if line_end < 0 else line_end
            start, end = _trim(self.text, char_end(colon), end)
            if len(self.text[start:end].split()) < 3:
                continue
            out.append(Attribution(
                start=start, end=end, kind="indirect", cue=":", cue_tokens=(colon.i,),
                speaker=(names[0].idx, char_end(names[-1])), speaker_head=names[-1].i,
            ))
        return out

    def _at(self, tok: Token) -> list[Attribution]:
        phrase = according_cue(tok, self.lex)
        if phrase is not None:
            att = self._according(tok, phrase)
            return [att] if att else []
        lemma = tok.lemma_.lower()
        if tok.pos_ == "NOUN" and (lemma in self.lex.speech_nouns
                                   or lemma in self.lex.noun_prepositional
                                   or lemma in self.lex.infinitive_nouns):
            return self._nominal(tok)
        reporting = self.lex.is_reporting_verb(lemma)
        if tok.pos_ not in ("VERB", "AUX") or not (
            reporting or lemma in self.lex.object_verbs or lemma in self.lex.infinitive_verbs
            or lemma in self.lex.prepositional or lemma in self.lex.naming_verbs
        ):
            return []
        if names_nobody(tok) or (denied(tok) and lemma not in self.lex.neg_raising_verbs):
            # "has not confirmed the fee", "nobody has called for a vote"; but "does not
            # think the plan will work" reports a belief
            return []
        found = []
        speech = self.lex.is_speech_verb(lemma)
        loose = lemma in self.lex.parataxis_verbs
        if loose and tok.dep_ == "parataxis" and not any(
            c.dep_ == "ccomp" for c in tok.children
        ):
            att = self._parenthetical(tok)
            if att:
                found.append(att)
        if lemma in self.lex.naming_verbs or lemma in self.lex.object_verbs:
            # "described the plan as reckless"; a judging verb with "as" names its object
            # the same way ("hailed the deal as a fair one"): the object alone is not
            # what was said
            att = self._naming(tok, as_only=lemma not in self.lex.naming_verbs)
            if att:
                found.append(att)
        objects = self._objects(tok, bool(found))
        found.extend(objects)
        taken = {a.cue_tokens[-1] for a in objects if len(a.cue_tokens) > 1}
        for child in tok.children:
            if child.i in taken:
                continue
            if child.dep_ == "dobj" and speech:
                # "told a meeting … that few people understood": the parser hangs the
                # that-clause on the listener as if it were a relative clause
                for rel in child.children:
                    if rel.dep_ == "relcl" and any(
                        m.dep_ == "mark" and m.lower_ == "that" for m in rel.children
                    ):
                        att = self._indirect(tok, (tok,), _subtree_span(rel))
                        if att:
                            found.append(att)
                continue
            if reporting and (child.dep_ == "ccomp" or (
                    child.dep_ == "parataxis" and loose and child.sent == tok.sent)):
                content = _subtree_span(child)
                if content[0] <= tok.idx < content[1]:
                    continue
                att = self._indirect(tok, (tok,), content)
                if att:
                    found.append(att)
            elif (child.dep_ in ("xcomp", "ccomp", "advcl")
                  and lemma in self.lex.infinitive_verbs
                  and any(c.dep_ == "aux" and c.lower_ == "to" for c in child.children)
                  and (child.dep_ != "advcl" or any(
                      c.dep_ == "dobj" and c.i < child.i for c in tok.children))):
                # an adverbial "to"-clause counts only after a listener ("tells her
                # supporters at a rally to go…"), not as a purpose ("called to say…")
                # "encouraged his supporters to visit …": the listener and the act
                start, end = _subtree_span(child)
                listener = next((c for c in tok.children if c.dep_ == "dobj"
                                 and c.i < child.i), None)
                if listener is not None:
                    start = min(start, listener.left_edge.idx)
                att = self._indirect(tok, (tok,), (start, end))
                if att:
                    found.append(att)
            elif child.dep_ == "prep" and child.lower_ in self.lex.prepositional.get(
                lemma, frozenset()
            ):
                objs = [c for c in child.children if c.dep_ in ("pobj", "pcomp")]
                if objs:
                    start = objs[0].left_edge.idx
                    end = max(char_end(o.right_edge) for o in objs)
                    # "…a ceasefire, along with the release of all prisoners": the
                    # parser hangs the added item on the verb; it is part of the demand
                    for extra in tok.rights:
                        if extra.i > child.i and extra.dep_ == "prep" and (
                            extra.lower_ in _ADDING
                        ):
                            end = max(end, char_end(extra.right_edge))
                    att = self._indirect(tok, (tok, child), (start, end))
                    if att:
                        found.append(att)
        return found

    def _objects(self, verb: Token, named: bool) -> list[Attribution]:
        """'criticised the new tax', 'Surveys show the incumbent ahead', 'was
        backed by the local paper' (passive: the subject is the content, the agent the
        source). A listed preposition after the object belongs to the content ("accused
        the mayor of stalling"); an object followed by its "to"-infinitive is left to that rule."""
        lemma = verb.lemma_.lower()
        if lemma not in self.lex.object_verbs or verb.pos_ != "VERB":
            return []
        obj = None
        passive = False
        for child in verb.children:
            if child.dep_ == "dobj" and not named:
                obj = child
            elif child.dep_ == "xcomp" and child.tag_ == "VBG" and obj is None and not named:
                obj = child  # "proposed doing away with the mandate"
            elif child.dep_ == "nsubjpass" and any(
                c.dep_ == "agent" for c in verb.children
            ):
                obj, passive = child, True
        if obj is None or obj.lower_ in _NOT_CONTENT or (
            obj.pos_ == "PRON" and obj.lower_ not in _PERSONAL_OBJECTS
        ):
            return []
        if lemma in self.lex.evidence_verbs and not self._text_subject(verb):
            return []  # "the club has signalled a change of course" reports no words
        if any(c.dep_ in ("xcomp", "ccomp") and c.i > obj.i for c in verb.children):
            return []  # "urged voters to …": the infinitive rule takes it
        start, end = _subtree_span(obj)
        cue: tuple[Token, ...] = (verb,)
        preps = self.lex.prepositional.get(lemma, frozenset())
        for child in verb.rights:
            if child.i > obj.i and child.dep_ == "prep" and child.lower_ in preps and (
                not passive
            ):
                end = max(end, char_end(child.right_edge))
                cue = (verb, child)
                break
        att = self._indirect(verb, cue, (start, end), min_words=1)
        return [att] if att else []

    def _text_subject(self, verb: Token) -> bool:
        """The verb's subject (or passive agent) is a text or a body of findings: "a
        survey shows…", "was found by the inquiry"."""
        for child in verb.children:
            if child.dep_ in ("nsubj", "nsubjpass"):
                if child.dep_ == "nsubj":
                    return child.lemma_.lower() in self.lex.source_nouns
            elif child.dep_ == "agent":
                return any(o.lemma_.lower() in self.lex.source_nouns
                           for o in child.children if o.dep_ == "pobj")
        return False

    def _text_source(self, noun: Token) -> Token | None:
        """Who speaks through a text ("the mayor's posts", "the council issued a statement",
        "a string of posts" the mayor sent): its owner, the subject of the verb it is
        the object of, or the text itself when it is one of the source nouns."""
        if noun.lemma_.lower() not in self.lex.source_nouns:
            return None
        owner = next((c for c in noun.children if c.dep_ == "poss"), None)
        if owner is not None:
            return owner
        outer = noun
        if outer.dep_ == "pobj" and outer.head.dep_ == "prep" and outer.head.lower_ == "of":
            outer = outer.head.head  # "a string of posts", "a series of ads"
        if outer.dep_ == "dobj" and outer.head.pos_ == "VERB":
            subject = speaker_of(outer.head, self.lex)
            if subject is not None:
                return subject
        return noun

    def _naming(self, verb: Token, as_only: bool = False) -> Attribution | None:
        """'called the fine unfair', 'described the plan as reckless' (with ``as_only``,
        only the "as" form: 'praised the crew as heroes')."""
        obj = next((c for c in verb.children if c.dep_ == "dobj"), None)
        if obj is None or obj.lower_ in ("this", "that", "which", "what"):
            return None  # "called it a passing fad" names it; "what she called…" not
        complement = next(
            (c for c in verb.children if c.i > obj.i and (
                (c.dep_ in ("oprd", "xcomp", "ccomp", "acomp") and not as_only)
                or (c.dep_ == "prep" and c.lower_ == "as"))),
            None,
        )
        if complement is None:
            return None
        start, end = obj.left_edge.idx, char_end(complement.right_edge)
        return self._indirect(verb, (verb,), (start, end))

    def _parenthetical(self, verb: Token) -> Attribution | None:
        """'Strikes, the leader said, are a last resort': the clause the
        attribution interrupts (or trails) is the content, from edge to edge."""
        clause = verb.head
        if clause is verb or clause.pos_ not in ("VERB", "AUX") or clause.sent != verb.sent:
            return None
        start, end = _subtree_span(clause)
        inner_start, inner_end = _subtree_span(verb)
        if inner_start <= start:
            start = inner_end
        if inner_end >= end:
            end = inner_start
        return self._indirect(verb, (verb,), (start, end), interrupted=True)

    def _nominal(self, noun: Token) -> list[Attribution]:
        """"the mayor's claim that …", "a statement by the ministry that …"."""
        clauses = [c for c in noun.children if c.dep_ in ("acl", "ccomp")
                   and any(m.dep_ == "mark" and m.lower_ == "that" for m in c.children)]
        cue: tuple[Token, ...] = (noun,)
        content: tuple[int, int] | None = None
        aims = [c for c in noun.children if c.dep_ in ("acl", "relcl") and c.i > noun.i
                and any(a.dep_ == "aux" and a.lower_ == "to" for a in c.children)]
        if clauses and noun.lemma_.lower() in self.lex.speech_nouns:
            content = _subtree_span(clauses[0])
        elif aims and noun.lemma_.lower() in self.lex.infinitive_nouns:
            content = _subtree_span(aims[0])  # "her pledge to cut fares"
        else:
            # "his criticism of the plan": the object of the noun's preposition
            preps = self.lex.noun_prepositional.get(noun.lemma_.lower(), frozenset())
            prep = next((c for c in noun.children if c.dep_ == "prep" and c.lower_ in preps),
                        None)
            objs = [c for c in prep.children if c.dep_ in ("pobj", "pcomp")] if prep else []
            if prep is None or not objs:
                return []
            content = (objs[0].left_edge.idx, max(char_end(o.right_edge) for o in objs))
            cue = (noun, prep)
        owner = next((c for c in noun.children if c.dep_ == "poss"), None)
        if owner is None:
            by = next((c for c in noun.children if c.dep_ == "prep" and c.lower_ in
                       ("by", "from")), None)
            owner = next((c for c in by.children if c.dep_ == "pobj"), None) if by else None
        if owner is None or not self._source_ok(owner):
            return []
        att = self._indirect(noun, cue, content, speaker=owner, min_words=1)
        return [att] if att else []

    def _indirect(
        self,
        verb: Token,
        cue: tuple[Token, ...],
        content: tuple[int, int],
        speaker: Token | None = None,
        interrupted: bool = False,
        min_words: int = 2,
    ) -> Attribution | None:
        given_span: tuple[int, int] | None = None
        if speaker is None:
            speaker = speaker_of(verb, self.lex)
            if speaker is None and verb.dep_ == "pcomp" and verb.head.dep_ == "prep" and (
                verb.head.head.pos_ in ("VERB", "AUX")
            ):
                # "opened by saying she would never…", "stopped short of blaming
                # the coach": the subject of the clause the gerund hangs from
                speaker = speaker_of(verb.head.head, self.lex)
            if speaker is None and verb.dep_ == "acl" and verb.tag_ == "VBG" and (
                verb.head.pos_ in ("NOUN", "PROPN")
            ):
                # "a letter calling the fine unfair", "the mayor's posts
                # mocking …": the owner of the noun, or the noun (a statement, an ad)
                speaker = self._text_source(verb.head)
            if speaker is None and verb.tag_ in ("VBD", "VBZ", "VBP") and not any(
                c.dep_ in ("nsubj", "nsubjpass", "csubj", "expl") for c in verb.children
            ) and verb.dep_ not in ("acl", "relcl", "advcl"):
                # "…of the local paper Porter said that…": the parser hung the subject
                # elsewhere; take the noun phrase right before the verb
                near = positional_speaker(verb, verb.sent.start_char, verb.idx)
                if near is not None and near[0].i < verb.i and not (
                    content[0] <= near[0].idx < content[1]
                ):
                    speaker, given_span = near
        if speaker is not None and speaker.lower_ == "it" and verb.pos_ == "VERB" and (
            self.lex.is_speech_verb(verb.lemma_)
            or verb.lemma_.lower() in self.lex.object_verbs
        ):
            pass  # "it said": an organisation named before
        elif not self._source_ok(speaker) or speaker is None:
            return None
        sp_span = given_span or noun_phrase(speaker)
        for mark in ("'s", "’s", "'", "’"):
            if self.text.endswith(mark, *sp_span) and sp_span[1] - len(mark) > sp_span[0]:
                # "Mr Blair's support for…": the owner without its possessive ending
                sp_span = (sp_span[0], sp_span[1] - len(mark))
                break
        start, end = _trim(self.text, *content)
        # the content must not swallow its own speaker or cue (unless the attribution
        # interrupts it, as in "Now, he said, the gaming world rivals…")
        if start <= speaker.idx < end and not interrupted:
            if speaker.idx > start:
                end = min(end, sp_span[0])
            else:
                start = max(start, sp_span[1])
            start, end = _trim(self.text, start, end)
        holding = self.quoted.span_at(end) if start < end else None
        if holding is not None and holding[0] >= start:
            end = holding[1]  # content ending inside a quotation ends at its closing mark
        if len(self.text[start:end].split()) < min_words:
            return None
        if start <= verb.idx < end and verb.i in self.direct_cues and self.quoted.covered(
            start, end
        ):
            return None  # '"If we wait," the coach says, "we lose"' is a direct quote
        if cue[-1].i - cue[0].i == len(cue) - 1:
            cue_text = self.text[cue[0].idx : char_end(cue[-1])]
        else:
            cue_text = " ".join(t.text for t in cue)  # "accused … of" → "accused of"
        return Attribution(
            start=start, end=end, kind="indirect", cue=cue_text,
            cue_tokens=tuple(t.i for t in cue), speaker=sp_span, speaker_head=speaker.i,
        )

    def _according(self, first: Token, phrase: tuple[Token, ...]) -> Attribution | None:
        source = according_object(first, self.lex)
        if source is None:
            return None
        src_span = noun_phrase(source)
        phrase_start = first.idx
        phrase_end = max(src_span[1], char_end(phrase[-1]))
        # the phrase ends at the source's own right edge (relative clauses included)
        phrase_end = max(phrase_end, char_end(source.right_edge))
        sent: SpacySpan = first.sent
        s_start, s_end = sent.start_char, sent.end_char
        before = self.text[s_start:phrase_start]
        after = self.text[phrase_end:s_end]
        if not before.strip(" ,;:—–-\n\"“”"):
            start, end = phrase_end, s_end
        elif not after.strip(" .,;:!?—–-\n\"“”"):
            start, end = s_start, phrase_start
        else:
            start, end = s_start, s_end
        start, end = _trim(self.text, start, end)
        if end - start < 3:
            return None
        cue_text = self.text[phrase[0].idx : char_end(phrase[-1])]
        return Attribution(
            start=start, end=end, kind="according_to", cue=cue_text,
            cue_tokens=tuple(t.i for t in phrase), speaker=src_span, speaker_head=source.i,
        )
