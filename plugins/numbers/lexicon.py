"""LEXICON"""

from __future__ import annotations

import re

DASHES = frozenset("-–—")
SLASH_FRACTION = re.compile(r"\d+/\d+")
MINUS = frozenset("-−–")
ORDINAL_SUFFIXES = frozenset({"st", "nd", "rd", "th"})
#: Scale words after digits ("1.5 million", "30 lakh").
SCALE_WORDS = {
    "hundred": 100,
    "thousand": 1e3,
    "million": 1e6,
    "billion": 1e9,
    "trillion": 1e12,
    "lakh": 1e5,
    "lakhs": 1e5,
    "lac": 1e5,
    "lacs": 1e5,
    "crore": 1e7,
    "crores": 1e7,
    "cr": 1e7,
    "crs": 1e7,
    "thousands": 1e3,
    "millions": 1e6,
    "billions": 1e9,
    "dozen": 12,
    "dozens": 12,
}
#: Abbreviated scales glued to digits ("7bn", "100K", "€10M"); "m" and "b" are read as
#: million/billion only in a money context or before a plural noun ("5m people").
SCALE_ABBREVS = {
    "bn": 1e9,
    "bln": 1e9,
    "mn": 1e6,
    "mln": 1e6,
    "tn": 1e12,
    "trn": 1e12,
    "k": 1e3,
    "K": 1e3,
    "M": 1e6,
    "B": 1e9,
    "G": 1e9,
    "T": 1e12,
    "m": 1e6,
    "b": 1e9,
    "cr": 1e7,
}
WEAK_ABBREVS = frozenset({"m", "b", "T", "G", "B", "M"})
#: "one" is no quantity after these words ("no one", "the one", "someone").
ONE_PRONOUN_BEFORE = frozenset(
    {
        "no",
        "the",
        "this",
        "that",
        "any",
        "each",
        "every",
        "which",
        "only",
        "another",
        "last",
        "little",
        "young",
        "loved",
        "special",
        "right",
        "wrong",
        "big",
        "new",
        "other",
    }
)
ONE_MODALS = frozenset({"could", "can", "must", "should", "might", "would", "may", "will"})
ENTITY_SKIP = frozenset(
    {"ORG", "PRODUCT", "WORK_OF_ART", "FAC", "LAW", "EVENT", "PERSON", "PER", "MISC"}
)
#: Words after which a bracketed amount is an accounting negative ("loss was ($5m)").
ACCOUNTING_BEFORE = frozenset({"is", "was", "were", "are", "be", "been", "of", ":", "="})
#: Time units of the units table that only build rates; alone they are durations.
RATE_ONLY_UNITS = frozenset({"s", "min", "h", "d", "wk", "yr"})
#: Unit names that are also everyday nouns: "a foot" is a unit only in "a foot of snow".
ARTICLE_AMBIGUOUS = frozenset({"foot", "yard", "stone", "ton", "grand", "knot", "cup"})
#: Currency words that after "a" are English words first: "a real problem", "a fen".
ARTICLE_NOT_MONEY = frozenset({"real", "rand", "dong", "won", "mark", "fen", "ore", "sen", "fils"})
#: Unit names that after "a" are everyday words: "a bar of soap", "a bit", "a degree".
ARTICLE_NEVER = frozenset(
    {"bar", "bars", "bit", "bits", "degree", "degrees", "gray", "grays", "pound", "pounds"}
)
#: Unit symbols that after "a" are words or abbreviations of something else.
ARTICLE_SYMBOL_WORDS = frozenset(
    {"in", "ha", "mb", "pm", "hr", "rad", "gr", "pb", "fb", "gal", "cal", "cc", "hp", "kt"}
)
#: Fraction words that stand for the number before a unit: "half a mile", "quarter-hour".
FRACTION_WORDS = {"half": 2, "quarter": 4}
#: Digits by name, for decimals read out ("point seven five").
DIGIT_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
#: Words before "9/11" that make a month/day of it rather than a fraction.
DATE_PREPOSITIONS = frozenset({"of", "since", "after", "before", "until", "till", "on", "post"})
#: Race distances in metres: "the 800m" is never eight hundred million of anything.
RACE_DISTANCES = frozenset({50, 60, 100, 110, 200, 400, 800, 1500, 3000, 5000, 10000})
#: Words after "400m" that show metres, not millions.
METRE_CONTEXT = frozenset(
    {
        "titles",
        "victory",
        "crown",
        "success",
        "win",
        "man",
        "woman",
        "medal",
        "medallist",
        "track",
        "taller",
        "longer",
        "wider",
        "swim",
        "dash",
        "slalom",
        "downhill",
        "climb",
        "tall",
        "long",
        "high",
        "wide",
        "deep",
        "away",
        "from",
        "above",
        "below",
        "under",
        "across",
        "race",
        "sprint",
        "hurdles",
        "final",
        "freestyle",
        "title",
        "record",
        "run",
        "runner",
        "runners",
        "relay",
        "event",
        "gold",
        "silver",
        "bronze",
        "heat",
        "heats",
        "backstroke",
        "breaststroke",
        "butterfly",
        "medley",
        "semi",
        "indoor",
        "outdoor",
        "world",
        "champion",
        "championship",
        "specialist",
        "wall",
        "drop",
        "fall",
        "dive",
        "deeper",
        "higher",
        "in",
        "of",
        "and",
        "or",
        "to",
        "at",
        "on",
    }
)
UNCOUNTED_PLURALS = frozenset(
    {
        "aircraft",
        "people",
        "sheep",
        "deer",
        "fish",
        "staff",
        "police",
        "personnel",
        "cattle",
        "livestock",
        "troops",
        "spacecraft",
        "offspring",
        "series",
        "species",
        "crew",
    }
)
#: Verbs of change: "rose 2% to 12%" is a change and a level, not a range.
CHANGE_WORDS = frozenset(
    {
        "rise",
        "fall",
        "increase",
        "decrease",
        "jump",
        "climb",
        "drop",
        "grow",
        "slip",
        "surge",
        "soar",
        "plunge",
        "slump",
        "gain",
        "lose",
        "cut",
        "raise",
        "up",
        "down",
        "by",
        "reduce",
        "lift",
        "boost",
        "edge",
        "dip",
        "tumble",
        "sink",
        "rally",
        "slide",
        "decline",
        "advance",
    }
)
SPORTS_WORDS = frozenset(
    {
        "win",
        "victory",
        "defeat",
        "draw",
        "loss",
        "lead",
        "scoreline",
        "thrashing",
        "home",
        "away",
        "aggregate",
        "deficit",
        "triumph",
        "success",
        "reverse",
        "beating",
        "margin",
    }
)
