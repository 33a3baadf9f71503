"""Exact alignment: the passages two texts share, word for word.

Every run of ``seed`` words the source holds is a seed; from each seed in this text the
match is extended word by word as far as both texts agree, and the longest extension wins.
Runs shorter than ``min_words`` are not passages. The scan moves past each passage, so
passages in this text never overlap.
"""

from __future__ import annotations

from dataclasses import dataclass

from copydesk.plugins.reuse.words import Words


@dataclass(frozen=True)
class Match:
    """``length`` words equal from word ``start`` here and word ``source_start`` there."""

    start: int
    source_start: int
    length: int


def shared_runs(here: Words, there: Words, seed: int, min_words: int) -> list[Match]:
    """The maximal runs of equal words, at least ``min_words`` long, in this text's order."""
    a, b = here.forms, there.forms
    seed = max(1, min(seed, min_words))
    index: dict[tuple[str, ...], list[int]] = {}
    for j in range(len(b) - seed + 1):
        index.setdefault(tuple(b[j:j + seed]), []).append(j)
    found: list[Match] = []
    i = 0
    while i <= len(a) - seed:
        starts = index.get(tuple(a[i:i + seed]))
        if not starts:
            i += 1
            continue
        best = Match(i, starts[0], 0)
        for j in starts:
            n = seed
            while i + n < len(a) and j + n < len(b) and a[i + n] == b[j + n]:
                n += 1
            if n > best.length:
                best = Match(i, j, n)
        if best.length >= min_words:
            found.append(best)
            i += best.length
        else:
            i += 1
    return found
