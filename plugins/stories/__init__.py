"""The stories plugin: which articles report the same event.

Stage ``stories`` turns each article into a weighted term vector (``terms``: content
words weighted by their rarity in English, entity names, named days) and links it to the
articles within ``window_days`` of its publication whose vectors are close enough
(``linking``); a story is a connected group of linked articles, named by its earliest
article. When an article links two stories they merge and the later story's id redirects
to the earlier one. The result does not depend on the order articles arrive in.

The stage writes ``{id, label, size, first_seen}``: the story's id as of this article
(resolve redirects for the current one), its label (the earliest article's title), its
member count and when its earliest article was published (or first seen, without a date).
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from copydesk import Document, Stage, StageConfig, hookimpl
from copydesk.plugins.stories.linking import Entry, Linker, MemoryStore, StoryInfo, StoryStore
from copydesk.plugins.stories.terms import NAME_LABELS, TermWeights, Token, term_vector, word_counts
from pydantic import BaseModel, Field

__all__ = ["StoriesConfig", "StoriesStage", "StoryLayer", "register_stages"]

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class StoriesConfig(StageConfig):
    """Settings of the ``[stage.stories]`` section."""

    window_days: float = Field(
        default=3.0, gt=0.0,
        description="Articles published further apart than this are never linked directly.",
    )
    threshold: float = Field(
        default=0.30, gt=0.0, le=1.0,
        description="Cosine of two articles' term vectors at or above which they report "
        "the same event.",
    )
    index_terms: int = Field(
        default=16, ge=1, le=64,
        description="Each article is indexed under (and looks up candidates by) this many "
        "of its heaviest terms.",
    )
    candidates: int = Field(
        default=48, ge=1,
        description="At most this many candidates per article are compared in full.",
    )
    lead_sentences: int = Field(default=2, ge=0, description="Sentences counted as the lead.")
    lead_boost: float = Field(default=2.0, ge=1.0, description="Weight of lead and title words.")
    entity_weight: float = Field(default=1.5, ge=0.0, description="Weight of entity names.")
    date_weight: float = Field(default=1.0, ge=0.0, description="Weight of named days.")
    max_terms: int = Field(default=64, ge=8, le=512, description="Terms kept per article.")

    def weights(self) -> TermWeights:
        return TermWeights(
            lead_boost=self.lead_boost,
            lead_sentences=self.lead_sentences,
            entity_weight=self.entity_weight,
            date_weight=self.date_weight,
            max_terms=self.max_terms,
        )


class StoryLayer(BaseModel):
    """The story of one article."""

    id: str
    label: str
    size: int
    first_seen: datetime


class StoriesStage(Stage[StoriesConfig]):
    """Online event clustering: links to same-event articles within a window."""

    name = "stories"
    requires = ("text",)
    optional = ("entities", "numbers")
    provides = ("story",)
    uses_parse = True
    #: words are weighted by their frequency in English
    languages = ("en",)
    description = "Stories: groups articles reporting the same event (id, label, size)."

    def setup(self) -> None:
        self.linker = Linker(
            self.make_store(),
            threshold=self.config.threshold,
            window_seconds=self.config.window_days * 86_400.0,
            index_terms=self.config.index_terms,
            candidates=self.config.candidates,
        )

    def make_store(self) -> StoryStore:
        return MemoryStore()

    def process(self, doc: Document) -> None:
        info = self.linker.add(self.entry(doc))
        doc.extensions[self.name] = story_layer(info).model_dump(mode="json")

    def process_batch(self, docs: Sequence[Document]) -> None:
        for doc in docs:
            self.process(doc)

    def entry(self, doc: Document) -> Entry:
        """What the linker keeps of ``doc``."""
        return Entry(
            id=doc.id,
            time=article_time(doc),
            vector=self.vector(doc),
            title=(doc.title or "").strip()[:200],
        )

    def vector(self, doc: Document) -> dict[str, float]:
        """The weighted term vector of ``doc``."""
        weights = self.config.weights()
        parsed = self.services.parse(doc)
        tokens = [
            Token(t.lemma_ if t.pos_ != "PROPN" else t.text, t.pos_, i, t.is_stop)
            for i, sent in enumerate(parsed.sents)
            for t in sent
        ]
        if doc.title:
            title = self.services.nlp(doc.title)
            tokens += [Token(t.lemma_ if t.pos_ != "PROPN" else t.text, t.pos_, -1, t.is_stop)
                       for t in title]
        names = [e.canonical for e in doc.entities if e.label in NAME_LABELS]
        days = [
            n.value[:10] for n in doc.numbers
            if n.kind == "date" and isinstance(n.value, str) and _DAY.match(n.value[:10])
        ]
        return term_vector(word_counts(tokens, weights), names, days, weights)


def article_time(doc: Document) -> float:
    """Publication time in epoch seconds; the time it is seen when it has none."""
    if doc.published_at is None:
        return time.time()
    when = doc.published_at
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def story_layer(info: StoryInfo) -> StoryLayer:
    return StoryLayer(
        id=info.id,
        label=info.label,
        size=info.size,
        first_seen=datetime.fromtimestamp(info.first_seen, tz=UTC),
    )


@hookimpl
def register_stages() -> list[type[Stage]]:
    return [StoriesStage]
