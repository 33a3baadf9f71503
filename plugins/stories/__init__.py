"""The stories plugin: which articles report the same event.

Stage ``stories`` (cross-article, on ``services.state``) turns each article into a
weighted term vector (``terms``: its words weighted by their inverse document frequency in
news, its entity names, the days it names) and puts it in a story with the articles within
``window_days`` of it (``linking``), named by the story's earliest article.

With average linkage (the default) an article joins the story closest to it on average
over that story's articles in the window (merging a second one only at ``threshold +
merge_margin``), and the story it joined then merges with any nearby story whose articles
are, on average, close to its own (story-to-story average linkage at ``threshold -
merge_slack``). Averages keep two similar events (two earthquakes) apart where one close
pair would chain them; the partition depends somewhat on arrival order (two workers
against one process: see ``tests/integration/test_stories_workers.py``). With ``linkage =
"single"`` every pair at or above ``threshold`` links and a story is a connected group: the
partition does not depend on arrival order or on the number of workers at all, but similar
events chain (best with ``threshold = 0.28``, ``entity_weight = 1.5``, ``date_weight = 1``).
When stories merge, the later story's id redirects to the earlier one (in the story index
too, so ``copydesk stories`` lists one story).

It writes ``Document.story``: ``{id, label, size, first_seen}``, the story's id when this
article joined it (follow redirects for the current one), its label (the earliest
article's title, else its heaviest words), its size then and the publication time of its
first dated article.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Literal

from copydesk import Document, NumberMention, Stage, StageConfig, Story, hookimpl
from copydesk.plugins.stories.linking import Entry, Linker
from copydesk.plugins.stories.terms import (
    NAME_LABELS,
    TermWeights,
    cosine,
    term_vector,
    word_counts,
)
from copydesk.storyindex import StoryIndex
from pydantic import Field

__all__ = ["SPACE", "StoriesConfig", "StoriesStage", "register_stages"]

SPACE = "stories"
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH_DAY = re.compile(r"\b((?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*)\.?"
                        r"\s+(\d{1,2})\b", re.IGNORECASE)
_LABEL_CHARS = 120


class StoriesConfig(StageConfig):
    """Settings of the ``[stage.stories]`` section."""

    window_days: float = Field(
        default=3.0, gt=0.0,
        description="Articles further apart than this (article time) are never linked "
        "directly; what is older is forgotten.",
    )
    threshold: float = Field(
        default=0.26, gt=0.0, le=1.0,
        description="Average linkage: the mean cosine of an article's term vector to a "
        "story's articles in the window at which it joins the story (and, alone, the cosine "
        "at which two articles report the same event); single linkage: the cosine at which "
        "two articles link (0.28 suits it).",
    )
    linkage: Literal["single", "average"] = Field(
        default="average",
        description="average: an article joins the story closest to it on average, and "
        "stories close on average merge (keeps similar events apart; depends a little on "
        "arrival order); single: every close pair links, a story is a connected group (the "
        "partition does not depend on arrival order or on the number of workers).",
    )
    merge_margin: float = Field(
        default=0.1, ge=0.0, le=1.0,
        description="Average linkage: an article close to two stories merges them only when "
        "its mean cosine to the second is at least threshold + merge_margin.",
    )
    merge_slack: float | None = Field(
        default=0.02, ge=0.0, le=1.0,
        description="Average linkage: once an article joined a story, a nearby story whose "
        "articles have a mean cosine to the joined story's of at least threshold - "
        "merge_slack merges with it (null: never).",
    )
    words: Literal["news", "english"] = Field(
        default="news",
        description="How words are weighted: news: by their inverse document frequency in "
        "a table of news articles; english: by their rarity in general English (wordfreq).",
    )
    index_terms: int = Field(
        default=16, ge=1, le=64,
        description="Each article is indexed under (and looks up candidates by) this many "
        "of its heaviest terms.",
    )
    candidates: int = Field(
        default=48, ge=1, description="At most this many candidates per article are "
        "compared in full.",
    )
    lead_sentences: int = Field(default=2, ge=0, description="Sentences counted as the lead.")
    lead_boost: float = Field(default=2.0, ge=1.0, description="Weight of lead and title "
                              "words.")
    entity_weight: float = Field(default=0.25, ge=0.0, description="Weight of entity names "
                                 "(their words count as words too; 1.5 suits single "
                                 "linkage).")
    date_weight: float = Field(default=0.5, ge=0.0, description="Weight of named days.")
    max_terms: int = Field(default=64, ge=8, le=512, description="Terms kept per article.")

    def weights(self) -> TermWeights:
        return TermWeights(
            lead_boost=self.lead_boost,
            lead_sentences=self.lead_sentences,
            entity_weight=self.entity_weight,
            date_weight=self.date_weight,
            max_terms=self.max_terms,
            words=self.words,
        )


class StoriesStage(Stage[StoriesConfig]):
    """Online event clustering: links to same-event articles within a window."""

    name = "stories"
    requires = ("text",)
    optional = ("entities", "numbers")
    provides = ("story",)
    cross_article = True
    #: words are weighted by their frequency in English
    languages = ("en",)
    description = "Stories: links articles reporting the same event (id, label, size)."

    def linker(self) -> Linker:
        """The linker over this stage's space of the shared state."""
        state = self.services.state
        space = state.space(SPACE, window=timedelta(days=self.config.window_days))
        index = StoryIndex(state)
        return Linker(space, threshold=self.config.threshold,
                      index_terms=self.config.index_terms, candidates=self.config.candidates,
                      on_merge=lambda old, new, at: index.redirect(old, new, at=at),
                      merge_margin=self.config.merge_margin,
                      average=self.config.linkage == "average",
                      merge_slack=self.config.merge_slack)

    def process(self, doc: Document) -> None:
        self.process_batch([doc])

    def process_batch(self, docs: Sequence[Document]) -> None:
        """In order, as if one by one (each sees what the earlier ones wrote); the index is
        read once for the batch (``Linker.add_many``)."""
        infos = self.linker().add_many([self.entry(doc) for doc in docs])
        for doc, info in zip(docs, infos, strict=True):
            first = info.first_published
            doc.story = Story(
                id=info.id, label=info.label, size=info.size,
                first_seen=datetime.fromtimestamp(first, tz=UTC) if first is not None else None,
            )

    def entry(self, doc: Document) -> Entry:
        """What the linker keeps of ``doc``."""
        vector = self.vector(doc)
        published = self.services.state.article_time(doc) if doc.published_at else None
        return Entry(
            id=doc.id,
            time=self.services.state.article_time(doc),
            vector=vector,
            label=label(doc, vector),
            published=published,
        )

    def vector(self, doc: Document) -> dict[str, float]:
        """The weighted term vector of ``doc``."""
        weights = self.config.weights()
        names = [e.canonical for e in doc.entities if e.label in NAME_LABELS]
        days = date_terms(doc.numbers)
        return term_vector(word_counts(doc.title, doc.text, weights), names, days, weights)

    def similarity(self, a: Document, b: Document) -> float:
        """How close two articles are; at or above ``threshold`` they are linked."""
        return cosine(self.vector(a), self.vector(b))


def date_terms(numbers: Sequence[NumberMention]) -> list[str]:
    """The days an article names, as ``MM-DD``: resolved, or written as a month and a day
    (an undated article's "June 20"). Years are left out: articles of one season share
    them whatever their event."""
    out = []
    for n in numbers:
        if n.kind != "date":
            continue
        value = n.value if isinstance(n.value, str) else ""
        day = _DAY.match(value)
        if day:
            out.append(value[5:10])
        else:
            written = _MONTH_DAY.search(n.text)
            if written:
                month = _MONTHS.index(written.group(1)[:3].lower()) + 1
                out.append(f"{month:02d}-{int(written.group(2)):02d}")
    return out


def label(doc: Document, vector: dict[str, float]) -> str:
    """A few words naming the article's story: its title, else its heaviest words."""
    title = " ".join((doc.title or "").split())
    if title:
        return title[:_LABEL_CHARS]
    words = [t for t in sorted(vector, key=lambda t: (-vector[t], t))
             if not t.startswith("d:")][:5]
    return ", ".join(t.removeprefix("e:") for t in words)[:_LABEL_CHARS]


@hookimpl
def register_stages() -> list[type[Stage]]:
    return [StoriesStage]
