"""Quote attribution: who said what, as the ``quotes`` layer of the Document.

Direct quotes (straight, curly and British single quotes; multi-paragraph; interrupted;
nested; partial quotes inside reported speech) with their speaker and cue, reported
speech (``indirect``) and "according to" attributions (``according_to``). Reads the
shared spaCy parse and the entities layer (for canonical speaker names); never parses
again. The word lists live in ``cues.toml``.
"""

from __future__ import annotations

from typing import ClassVar

from copydesk import Document, Stage, StageConfig, hookimpl
from copydesk.document import Quote, Speaker
from copydesk.plugins.quotes.attribution import Attribution, DirectAttributor
from copydesk.plugins.quotes.continuity import carry_speakers
from copydesk.plugins.quotes.coref import SpeakerResolver
from copydesk.plugins.quotes.lexicon import Lexicon, load_lexicon
from copydesk.plugins.quotes.marks import find_quoted
from copydesk.plugins.quotes.reported import ReportedFinder
from pydantic import Field
from spacy.tokens import Doc as SpacyDoc

__all__ = ["QuotesConfig", "QuotesStage", "register_stages"]


class QuotesConfig(StageConfig):
    """Settings of the ``quotes`` stage (``[stage.quotes]``)."""

    indirect: bool = Field(
        default=True, description="Report indirect speech and 'according to' attributions."
    )
    unattributed: bool = Field(
        default=True,
        description="Report direct quotes whose speaker cannot be found (speaker null).",
    )
    max_scare_words: int = Field(
        default=2,
        ge=0,
        description="Quotes of at most this many words are scare quotes unless a speech "
        "verb takes them as its own words.",
    )
    lexicon: str | None = Field(
        default=None, description="Path to a cues TOML replacing the built-in word lists."
    )


class QuotesStage(Stage[QuotesConfig]):
    """Finds direct and reported quotes and attributes them to speakers."""

    name: ClassVar[str] = "quotes"
    requires: ClassVar[tuple[str, ...]] = ("text", "entities")
    provides: ClassVar[tuple[str, ...]] = ("quotes",)
    uses_parse: ClassVar[bool] = True
    #: speech verbs and cues are English data (cues.toml)
    languages: ClassVar[tuple[str, ...] | None] = ("en",)
    description: ClassVar[str] = "direct, indirect and according-to quotes with speakers"

    lex: Lexicon

    def setup(self) -> None:
        self.lex = load_lexicon(self.config.lexicon)

    def process(self, doc: Document) -> None:
        doc.quotes = find_quotes(doc, self.services.parse(doc), self.lex, self.config)


def find_quotes(doc: Document, sp: SpacyDoc, lex: Lexicon, config: QuotesConfig) -> list[Quote]:
    """The quotes layer of ``doc`` from its spaCy parse ``sp`` (of ``doc.text``)."""
    assert sp.text == doc.text, "parse is not of doc.text"
    quoted = find_quoted(doc.text)
    spans = [(q.start, q.end) for q in quoted]
    direct = DirectAttributor(sp, lex, max_scare_words=config.max_scare_words).attribute(quoted)
    if not config.unattributed:
        direct = [a for a in direct if a.speaker is not None]
    found: list[Attribution] = list(direct)
    if config.indirect:
        direct_cues = {i for a in direct if a.cue_tokens for i in a.cue_tokens}
        found.extend(ReportedFinder(sp, lex, spans, direct_cues).find())
        carry_speakers(doc.text, found)
    resolver = SpeakerResolver(doc.entities, sp, lex, quoted=spans)
    # named speakers are persons even where the entities layer missed them
    for att in sorted(found, key=lambda a: a.start):
        if att.speaker is not None and att.speaker_head is not None:
            head = sp[att.speaker_head]
            if head.pos_ == "PROPN" and resolver.entity_at(*att.speaker, att.speaker_head) is None:
                resolver.learn(resolver.canonical(*att.speaker, att.speaker_head) or head.text,
                               head.idx, head.idx + len(head.text))
    quotes = []
    for att in sorted(found, key=lambda a: (a.start, a.end)):
        speaker = None
        if att.speaker is not None:
            s, e = att.speaker
            speaker = Speaker(
                start=s, end=e, text=doc.text[s:e],
                canonical=resolver.canonical(s, e, att.speaker_head),
            )
        quotes.append(
            Quote(
                start=att.start, end=att.end, text=doc.text[att.start : att.end],
                kind=att.kind,  # type: ignore[arg-type]
                speaker=speaker, cue=att.cue,
            )
        )
    return quotes


@hookimpl
def register_stages() -> list[type[Stage]]:
    return [QuotesStage]
