"""Documents with every layer filled in by hand, for the HTML view's tests.

The layers are written here (not produced by the stages) so the view's tests do not
depend on what the entity, number, quote and summary stages find: they check that
whatever a Document holds is drawn, nested and linked. The text is the frozen sample
article and a sentence of the shared BBC corpus.
"""

from __future__ import annotations

from typing import Any

from copydesk.document import (
    Document,
    Entity,
    Heading,
    NumberMention,
    Quote,
    Removal,
    Speaker,
    StageRun,
    Summary,
    SummarySentence,
)

#: A sentence of the BBC 2005 corpus with a number inside an entity ("FTSE 100").
FTSE_SENTENCE = "In London, the FTSE 100 index closed 15 points higher at 4,751."

#: Article text that would run script if it were not escaped.
HOSTILE_TEXT = (
    "Markup in the text must show as text.\n\n"
    "A reader wrote <script>window.__copydeskPwned = 1; alert('pwned')</script> in a comment.\n\n"
    'Another pasted <img src="x" onerror="window.__copydeskPwned = 2; alert(2)"> and '
    '"<b onmouseover=alert(3)>bold</b>" said Mallory <Evil>, & so on.\n'
)


def find(text: str, needle: str, occurrence: int = 0) -> tuple[int, int]:
    """``(start, end)`` of the ``occurrence``-th ``needle`` in ``text``; fails loudly."""
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(needle, start + 1)
    return start, start + len(needle)


def _span(text: str, needle: str, occurrence: int = 0) -> dict[str, Any]:
    start, end = find(text, needle, occurrence)
    return {"start": start, "end": end, "text": text[start:end]}


def annotated_sample(raw_text: str) -> Document:
    """The sample article with a removal, headings, entities, numbers, quotes and summary."""
    credit = "\u00a0(Photo by Ukrainian Presidency / Handout/Anadolu via Getty Images)\n\n"
    c_start, c_end = find(raw_text, credit)
    t_start, t_end = find(raw_text, "\n\nTags\n\nPost a Comment")[0], len(raw_text)
    text = raw_text[:c_start] + raw_text[c_end:t_start]

    def ent(needle: str, label: str, canonical: str, occurrence: int = 0) -> Entity:
        return Entity(**_span(text, needle, occurrence), label=label, canonical=canonical)

    entities = [
        ent("Istanbul", "GPE", "Istanbul"),
        ent("Çırağan Palace", "FAC", "Çırağan Palace"),
        ent("Donald Trump", "PERSON", "Donald Trump"),
        ent("Volodymyr Zelenskyy", "PERSON", "Volodymyr Zelenskyy"),
        ent("Zelenskyy", "PERSON", "Volodymyr Zelenskyy", occurrence=1),
        ent("Vladimir Putin", "PERSON", "Vladimir Putin"),
        ent("Kremlin", "ORG", "Kremlin"),
        ent("Kremlin", "ORG", "Kremlin", occurrence=1),
        ent("Ukraine’s intelligence service", "ORG", "Ukraine’s intelligence service"),
    ]
    numbers = [
        NumberMention(**_span(text, "$7 billion"), kind="money", value=7_000_000_000,
                      unit="USD", qualifier="approximately"),
        NumberMention(**_span(text, "€6.17 billion"), kind="money", value=6_170_000_000,
                      unit="EUR"),
        NumberMention(**_span(text, "41"), kind="cardinal", value=41, unit="aircraft"),
        NumberMention(**_span(text, "472 drones"), kind="quantity", value=472, unit="drone"),
        NumberMention(**_span(text, "at least 12"), kind="cardinal", value=12,
                      unit="soldier", qualifier="at_least"),
    ]
    zelenskyy = _span(text, "President Zelenskyy")
    according = (
        "According to Ukraine’s intelligence service, the attacks caused an estimated "
        "$7 billion (€6.17 billion) in damages and destroyed 41 Russian aircraft."
    )
    quotes = [
        Quote(**_span(text, '"absolutely brilliant achievement"'), kind="direct",
              speaker=Speaker(**zelenskyy, canonical="Volodymyr Zelenskyy"), cue="praised"),
        Quote(**_span(text, according), kind="according_to",
              speaker=Speaker(**_span(text, "Ukraine’s intelligence service"),
                              canonical="Ukraine’s intelligence service"),
              cue="according to"),
        Quote(**_span(text, "Ukrainian President Volodymyr Zelenskyy is calling for an "
                            "immediate and comprehensive ceasefire"),
              kind="indirect", speaker=Speaker(**_span(text, "Volodymyr Zelenskyy"),
                                               canonical="Volodymyr Zelenskyy"),
              cue="is calling for"),
    ]
    first = _span(text, "Delegates from Ukraine and Russia are scheduled to meet again in "
                        "Istanbul for a new round of peace negotiations aimed at ending the "
                        "prolonged conflict between the two nations.")
    second = _span(text, "President Zelenskyy praised the operation as an \"absolutely "
                         "brilliant achievement\" and a turning point in Ukraine’s drone "
                         "warfare capabilities.")
    summary = Summary(
        text=first["text"] + " " + second["text"],
        sentences=[SummarySentence(**first, score=0.91), SummarySentence(**second, score=0.64)],
    )
    title_end = text.index("\n")
    headings = [
        Heading(start=0, end=title_end, text=text[:title_end], level=1),
        Heading(**_span(text, "No Clear Signs of Compromise from Either Side"), level=2),
    ]
    runs = [
        StageRun(stage="cleaning", plugin="cleaning", version="0.1.0", status="ok",
                 duration_ms=3.2),
        StageRun(stage="entities", plugin="entities", version="0.1.0", status="ok",
                 duration_ms=41.0),
        StageRun(stage="sentiment", plugin="acme-sentiment", version="2.0.1", status="failed",
                 duration_ms=0.4, error="ValueError: no lexicon for language 'en'"),
    ]
    return Document(
        id="istanbul-peace-talks",
        title=text[:title_end],
        url="https://example.org/news/istanbul-talks",
        source="sample",
        raw_text=raw_text,
        text=text,
        removed=[
            Removal(start=c_start, end=c_end, text=credit, reason="photo_credit"),
            Removal(start=t_start, end=t_end, text=raw_text[t_start:t_end], reason="comments"),
        ],
        headings=headings,
        entities=entities,
        numbers=numbers,
        quotes=quotes,
        summary=summary,
        runs=runs,
        extensions={"acme-sentiment": {"score": -0.4, "note": "<b>not markup</b>"}},
        metadata={"desk": "world"},
        status="done",
    )


def hostile_document() -> Document:
    """A document whose text, title, labels and extensions all carry markup."""
    text = HOSTILE_TEXT
    script = _span(text, "<script>window.__copydeskPwned = 1; alert('pwned')</script>")
    img = _span(text, '<img src="x" onerror="window.__copydeskPwned = 2; alert(2)">')
    quoted = _span(text, '"<b onmouseover=alert(3)>bold</b>"')
    speaker = _span(text, "Mallory <Evil>")
    return Document(
        id="hostile",
        title="<script>window.__copydeskPwned = 3</script>Hostile",
        url="javascript:window.__copydeskPwned = 4",
        raw_text=text,
        text=text,
        entities=[
            Entity(**script, label='"><img src=x onerror=alert(5)>',
                   canonical="<script>alert(6)</script>"),
            Entity(**speaker, label="PERSON", canonical="Mallory <Evil>"),
        ],
        numbers=[NumberMention(**img, kind="cardinal", value="<svg onload=alert(7)>")],
        quotes=[Quote(**quoted, kind="direct", speaker=Speaker(**speaker), cue="said")],
        extensions={"x": "</script><script>window.__copydeskPwned = 8</script>"},
        status="done",
    )
