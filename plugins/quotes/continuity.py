"""Quotes that continue what a speaker said before them.

A reporter often introduces a speaker with reported speech and then gives their own
words without a new cue: 'The coach said the team had lost its way. "We stopped
running after the first goal."' A direct quote left without a cue takes the speaker of
the attribution right before it, when that attribution stands in the same paragraph,
or ends the paragraph just before one the quote opens (the newspaper convention for
quotes that run on from the previous paragraph).
"""

from __future__ import annotations

from collections.abc import Sequence

from copydesk.plugins.quotes.attribution import Attribution


def _opens_paragraph(text: str, pos: int) -> bool:
    return not text[text.rfind("\n", 0, pos) + 1 : pos].strip()


def _adjacent(text: str, before: Attribution, quote: Attribution) -> bool:
    """``before`` ends in the quote's paragraph, or in the paragraph right before it
    (blank lines aside) when the quote opens its own."""
    between = text[before.end : quote.start]
    if "\n" not in between:
        return True
    if not _opens_paragraph(text, quote.start):
        return False
    lines = between.split("\n")
    # the text after ``before`` on its line must end that paragraph, and nothing but
    # blank lines may stand between the two paragraphs
    return not any(line.strip() for line in lines[1:-1]) and len(lines[0].strip()) < 80


def carry_speakers(text: str, found: Sequence[Attribution]) -> None:
    """Give each uncued direct quote in ``found`` the speaker of the attribution right
    before it (in place)."""
    ordered = sorted(found, key=lambda a: (a.start, a.end))
    last: Attribution | None = None
    for att in ordered:
        if att.kind == "direct" and att.speaker is None and att.cue is None and (
            last is not None and _adjacent(text, last, att)
        ):
            att.speaker, att.speaker_head = last.speaker, last.speaker_head
            att.cue, att.cue_tokens, att.inherited = last.cue, last.cue_tokens, True
        if att.speaker is not None:
            last = att
        elif att.kind == "direct":
            last = None  # an unattributed quote breaks the chain
