"""Rules for cardinals and ordinals: "1,250 ballots" (with the noun counted, from the
parse), "two-thirds", "thousands of fans" (at least), "21st", "thirty-fourth"; and the
numbers that are no quantity: names ("Six Nations", "50 Cent"), scores ("won 3-1"),
"9/11" and "24/7", decades ("the 80s"), and "one" as a pronoun ("no one").
"""

from __future__ import annotations

from typing import Any

from copydesk.plugins.numbers.found import DECLINED, Declined, Found, Numeral, as_number
from copydesk.plugins.numbers.isotime import duration_unit
from copydesk.plugins.numbers.lexicon import (
    DASHES,
    DATE_PREPOSITIONS,
    ONE_MODALS,
    ONE_PRONOUN_BEFORE,
    SCALE_WORDS,
    SLASH_FRACTION,
    SPORTS_WORDS,
    UNCOUNTED_PLURALS,
)
from copydesk.plugins.numbers.numerals import Reader
from copydesk.plugins.numbers.words import HYPHENS


def prepare(x: Reader, num: Numeral) -> None:
    """Before the numeral rules: a fraction takes the unit or scale after "of" ("a
    quarter of a mile", "a third of a million"), and a vague or group count the unit
    after "of" ("a couple of days", "millions of pounds")."""
    toks = x.tokens
    j = num.end
    if num.fraction and j < x.n and toks[j].lower == "of":
        k = x.unit_after_of(j)
        if k is not None:
            word = toks[k].lower
            if word in SCALE_WORDS:
                num.value *= SCALE_WORDS[word]
                num.scale = SCALE_WORDS[word]
                num.fraction = False
                num.end = k + 1
            else:
                num.end = k
            j = num.end
    if (
        (num.vague or num.group_word)
        and j + 1 < x.n
        and toks[j].lower == "of"
        and (
            duration_unit(toks[j + 1].lower) is not None
            or x.currency_at(j + 1) is not None
            or x.units.match(toks, j + 1, x.text) is not None
        )
    ):
        num.end = j + 1


def ordinal(x: Reader, num: Numeral) -> Found | Declined | None:
    """An ordinal numeral ("21st", "third"), unless part of a name or a duration ("a
    second") or "at first"."""
    if not num.ordinal:
        return None
    return _ordinal_found(x, num) or DECLINED


def pronoun_one(x: Reader, num: Numeral) -> Declined | None:
    """ "no one", "the one", "one of them", "one-on-one": "one" that counts nothing."""
    return DECLINED if num.words and one_is_pronoun(x, num) else None


def _ordinal_found(x: Reader, num: Numeral) -> Found | None:
    toks = x.tokens
    if num.words and num.end - num.start == 1:
        word = toks[num.start].lower
        prev = toks[num.start - 1].lower if num.start > 0 else ""
        if word == "second":
            nxt = toks[num.end] if num.end < x.n else None
            if prev in ("a", "per", "split", "every", "one") and not (
                nxt is not None and nxt.is_alpha and x.is_nominal(num.end)
            ):
                return None  # a duration, read by article_duration
        if word == "first" and prev == "at":
            return None  # "at first"
    start_char, end_char = x.tokens[num.start].start, x.tokens[num.end - 1].end
    if x.in_name(start_char, end_char):
        return None
    return Found(num.start, num.end, "ordinal", as_number(num.value))


def one_is_pronoun(x: Reader, num: Numeral) -> bool:
    """Whether the word "one" at ``num`` is a pronoun, not a count."""
    toks = x.tokens
    if num.end - num.start != 1 or toks[num.start].lower != "one":
        return False
    i = num.start
    prev = toks[i - 1].lower if i > 0 else ""
    nxt = toks[i + 1] if i + 1 < x.n else None
    if prev in ONE_PRONOUN_BEFORE:
        return True
    before = x.text[max(0, toks[i].start - 7) : toks[i].start].lower()
    if before.endswith(("one-on-", "one-to-", "one-by-", "one on ", "one to ")):
        return True  # the second "one" of "one-on-one"
    if nxt is None:
        return False
    if nxt.lower in ("of", "another", "day") and nxt.space_before:
        return nxt.lower != "day" or i == 0 or toks[i - 1].text in ".\n"
    if (
        nxt.text in DASHES
        and not nxt.space_before
        and i + 2 < x.n
        and toks[i + 2].lower
        in ("on", "to", "off", "by", "sided", "time", "stop", "way", "man", "party")
    ):
        return True  # "one-on-one", "one-off", "one-sided"
    if nxt.lower in ONE_MODALS:
        return True
    sp = x.sp(i)
    return bool(
        sp is not None
        and sp.dep_ in ("nsubj", "nsubjpass", "dobj", "pobj", "attr")
        and any(c.dep_ in ("det", "relcl", "amod") for c in sp.children)
    )


def _no_count(x: Reader, num: Numeral) -> bool:
    """ "the 80s", "70's music" (a decade or an age) and "3G", "4G" (names)."""
    toks = x.tokens
    j = num.end
    if (
        num.integer_text
        and num.value % 10 == 0
        and j < x.n
        and not toks[j].space_before
        and (
            toks[j].text == "s"
            or (toks[j].text in ("'", "’") and j + 1 < x.n and toks[j + 1].lower == "s")
        )
    ):
        return True
    return num.weak_scale is not None and toks[num.weak_scale[0]].text in ("G", "T", "B", "b")


def _in_a_name(x: Reader, num: Numeral) -> bool:
    """ "Apollo 11", "FTSE 100" (inside a named entity) and "Six Nations", "Blake's
    Seven" (a capitalised number word inside a name)."""
    toks = x.tokens
    if x.in_name(toks[num.start].start, toks[num.end - 1].end):
        return True
    first = toks[num.start]
    return (
        num.words
        and first.text[0].isupper()
        and not first.text.isupper()
        and num.start > 0
        and not x.starts_sentence(num.start)
        and num.end < x.n
        and toks[num.end].text[:1].isupper()
    )


def _slash_no_fraction(x: Reader, num: Numeral) -> bool:
    """ "9/11", "24/7", "5/2" odds: a slash between digits that is no fraction of anything."""
    toks = x.tokens
    start_char, end_char = toks[num.start].start, toks[num.end - 1].end
    return bool(
        num.fraction
        and SLASH_FRACTION.fullmatch(x.text[start_char:end_char])
        and (
            num.value >= 1
            or x.entity_label(start_char, end_char) == "DATE"
            or (num.end < x.n and toks[num.end].is_alpha and x.is_nominal(num.end))
            or _slash_is_date(x, num)
        )
    )


def cardinal(x: Reader, num: Numeral) -> Found | list[Found] | None:
    """A bare number, with the noun it counts ("472 drones" → unit drone); a bare year
    is a date ("2005 will see more"); names, scores and codes are no quantity."""
    toks = x.tokens
    x.apply_weak(num)  # "5bn", "-1.2M": an abbreviated scale that needs no context
    if _no_count(x, num):
        return None
    if num.group_word and num.end < x.n and toks[num.end].lower == "of":
        num.end += 1
    if _is_score(x, num):
        return _skip_score(x, num)
    if _in_a_name(x, num):
        return None
    if _slash_no_fraction(x, num):
        return x.skip(num)
    item = Found(num.start, num.end, "cardinal", as_number(num.value))
    if num.fraction:
        item.extra["fraction"] = True
    if num.vague:
        item.qualifier = "at_least"
    return _counted(x, num, item)


def _counted(x: Reader, num: Numeral, item: Found) -> Found | None:
    """The cardinal ``item`` with the noun it counts, or the year a bare number is."""
    year_like = num.integer_text and 1900 <= num.value <= 2100
    noun = counted_noun(x, num) if x.counted_nouns else None
    if noun is not None and not noun[2] and (year_like or num.value != 1):
        if year_like:
            return _year(num)
        noun = None
    if noun is None and not year_like and _beside_a_name(x, num):
        return None  # "50 Cent", "Hot 97", "Billboard 200", "Voyager 2"
    if noun is not None:
        lemma, noun_end, _plural = noun
        item.unit = lemma
        item.end = max(item.end, noun_end)
    elif year_like and not num.words and "," not in x.tokens[num.start].text and num.value != 2000:
        return _year(num)  # a bare "2005" with nothing counted is a year
    item.extra["scale"] = num.scale
    return x.qualify(item)


def _year(num: Numeral) -> Found:
    found = Found(num.start, num.end, "date", str(int(num.value)))
    found.rule = "bare_year"
    return found


def _slash_is_date(x: Reader, num: Numeral) -> bool:
    """ "since 9/11", "the attacks of 9/11": month/day after a preposition, with a
    day no everyday fraction has as denominator (halves to tenths, sixteenths)."""
    if num.start == 0 or num.end - num.start != 3:
        return False
    month, day = int(x.tokens[num.start].text), int(x.tokens[num.start + 2].text)
    prev = x.tokens[num.start - 1].lower
    return (
        prev in DATE_PREPOSITIONS
        and 1 <= month <= 12
        and 1 <= day <= 31
        and day not in (2, 3, 4, 5, 6, 8, 10, 16)
    )


def _beside_a_name(x: Reader, num: Numeral) -> bool:
    """Whether a bare number is glued by spacing to a proper name on either side."""
    if x.parse is None or num.words:
        return False
    toks = x.tokens
    if num.start > 0 and not x.starts_sentence(num.start):
        prev = toks[num.start - 1]
        sp = x.sp(num.start - 1)
        if (
            prev.is_alpha
            and prev.text[0].isupper()
            and sp is not None
            and sp.pos_ == "PROPN"
            and not x.starts_sentence(num.start - 1)
            and sp.ent_type_ not in ("DATE", "TIME", "NORP")
        ):
            return True
    if num.end < x.n:
        nxt = toks[num.end]
        sp = x.sp(num.end)
        if (
            nxt.is_alpha
            and nxt.text[0].isupper()
            and not nxt.text.isupper()
            and sp is not None
            and sp.pos_ == "PROPN"
            and sp.ent_type_ not in ("DATE", "TIME", "NORP", "GPE")
            and sp.tag_ != "NNPS"
        ):
            return True
    return False


def _is_score(x: Reader, num: Numeral) -> bool:
    toks = x.tokens
    j = num.end
    if not num.integer_text or j + 1 >= x.n:
        return False
    if toks[j].text not in DASHES or toks[j].space_before or toks[j + 1].space_before:
        return False
    if not toks[j + 1].text.isdigit():
        return False
    other = int(toks[j + 1].text)
    after = toks[j + 2].lower if j + 2 < x.n else ""
    return num.value >= other or after in SPORTS_WORDS


def _skip_score(x: Reader, num: Numeral) -> list[Found]:
    x.last_end = num.end + 2
    return []


def _number_token(x: Reader, num: Numeral) -> Any:
    """The spaCy token of the number whose head lies outside the number (or None)."""
    toks = x.tokens
    start_char = toks[num.start].start
    end_char = toks[num.end - 1].end
    numtok = None
    for k in range(num.start, num.end):
        sp = x.sp(k)
        if sp is None:
            continue
        if not start_char <= sp.head.idx < end_char or sp.head.i == sp.i:
            numtok = sp
    return numtok


def _noun_of(x: Reader, numtok: Any, head: Any, group_word: bool) -> tuple[str, int, bool] | None:
    """The noun after "of" of a vague or group count ("thousands of lives", "a dozen of
    eggs"), or the head noun of a group word ("a dozen eggs")."""
    for child in (*numtok.children, *(head.children if head.i > numtok.i else ())):
        if child.dep_ == "prep" and child.lower_ == "of":
            for obj in child.children:
                if obj.dep_ == "pobj" and obj.pos_ == "NOUN":
                    return obj.lemma_.lower(), x.tok_end(obj.idx + len(obj)), True
    if group_word and head.pos_ == "NOUN" and head.i > numtok.i:
        return head.lemma_.lower(), x.tok_end(head.idx + len(head)), True
    return None


def _head_noun(x: Reader, numtok: Any, head: Any) -> tuple[str, int, bool] | None:
    """The noun the number modifies, a few adjectives or nouns apart at most."""
    if numtok.dep_ not in ("nummod", "quantmod", "compound", "amod", "npadvmod", "nmod") or (
        head.i <= numtok.i
    ):
        return None
    if head.pos_ != "NOUN" or head.i - numtok.i > 4:
        return None
    between = numtok.doc[numtok.i + 1 : head.i]
    if any(
        t.pos_ not in ("ADJ", "NOUN", "PROPN", "ADV", "PUNCT", "NUM", "VERB")
        or t.text in (",", ";", "(", ")")
        for t in between
    ):
        return None
    lemma = head.lemma_.lower()
    if (not lemma.isalpha() and "-" not in lemma) or len(lemma) < 2:
        return None
    after = head.doc[head.i + 1] if head.i + 1 < len(head.doc) else None
    if after is not None and after.text in HYPHENS and not head.whitespace_:
        return None  # part of a hyphenated word ("One e-mail")
    plural = head.tag_ in ("NNS", "NNPS") or head.lower_ in UNCOUNTED_PLURALS
    return lemma, x.tok_end(head.idx + len(head)), plural


def counted_noun(x: Reader, num: Numeral) -> tuple[str, int, bool] | None:
    """The noun a number counts ("472 drones" → drone): (lemma, token end, plural)."""
    if x.parse is None or num.fraction:
        return None
    numtok = _number_token(x, num)
    if numtok is None:
        return None
    head = numtok.head
    if head.i <= numtok.i or head.pos_ != "NOUN":
        # a parse that missed the link: a plural noun right after the number
        nxt = numtok.doc[numtok.i + 1] if numtok.i + 1 < len(numtok.doc) else None
        end_char = x.tokens[num.end - 1].end
        if nxt is not None and nxt.pos_ == "NOUN" and nxt.tag_ == "NNS" and nxt.idx >= end_char:
            return nxt.lemma_.lower(), x.tok_end(nxt.idx + len(nxt)), True
    if num.vague or num.group_word:
        return _noun_of(x, numtok, head, num.group_word)
    return _head_noun(x, numtok, head)
