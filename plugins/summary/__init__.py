"""The summary plugin: an extractive summary of the article, as whole sentences.

Stage ``summary`` reads the shared spaCy parse's sentences, drops headings, captions,
furniture and fragments (``features``), scores the rest by position and content and picks
them with a novelty penalty (``rank``), and writes ``Document.summary``: the picked
sentences in article order with their offsets and scores, and their text joined by spaces.

Length is a sentence count (``sentences``, default 3), a share of the article's eligible
sentences (``ratio``) or a word budget (``max_words``); at most one of the last two.
"""

from __future__ import annotations

import math

from copydesk import Document, Stage, StageConfig, hookimpl
from copydesk.document import Summary, SummarySentence
from copydesk.plugins.summary.features import candidates, term_list
from copydesk.plugins.summary.rank import Weights, background_zipf, prepare, select
from pydantic import Field, model_validator

__all__ = ["SummaryConfig", "SummaryStage", "Weights", "register_stages"]


class SummaryConfig(StageConfig):
    """Settings of the ``[stage.summary]`` section."""

    sentences: int = Field(default=3, ge=1, description="How many sentences to pick.")
    ratio: float | None = Field(
        default=None, gt=0.0, le=1.0,
        description="Pick this share of the article's eligible sentences instead.",
    )
    max_words: int | None = Field(
        default=None, ge=1,
        description="Pick sentences while their words fit this budget instead "
        "(always at least one sentence).",
    )
    min_words: int = Field(
        default=5, ge=1, description="Shorter sentences are fragments, never picked."
    )
    max_candidates: int = Field(
        default=400, ge=1,
        description="Only the first this many eligible sentences compete (the ranker "
        "compares every pair; news puts its point first), so a very long text costs "
        "linear time.",
    )
    weights: Weights = Field(default_factory=Weights)

    @model_validator(mode="after")
    def _one_length(self) -> SummaryConfig:
        if self.ratio is not None and self.max_words is not None:
            raise ValueError("give at most one of 'ratio' and 'max_words'")
        return self


class SummaryStage(Stage[SummaryConfig]):
    """Extractive summary: position prior plus centrality, names, figures and novelty."""

    name = "summary"
    requires = ("text",)
    optional = ("entities", "numbers", "headings")
    provides = ("summary",)
    uses_parse = True
    #: topic terms are scored against English word frequencies
    languages = ("en",)
    description = "Extractive summary: the article's key sentences, in order, with scores."

    def setup(self) -> None:
        background_zipf("the")  # load the word-frequency table once, at process start

    def process(self, doc: Document) -> None:
        doc.summary = self.summarize(doc)

    def summarize(
        self,
        doc: Document,
        sentences: int | None = None,
        ratio: float | None = None,
        max_words: int | None = None,
    ) -> Summary:
        """The summary of ``doc``; the length arguments override the configured length
        (give at most one)."""
        cfg = self.config
        if sentences is None and ratio is None and max_words is None:
            sentences, ratio, max_words = cfg.sentences, cfg.ratio, cfg.max_words
        parsed = self.services.parse(doc)
        cands = candidates(
            parsed,
            doc.text,
            headings=[(h.start, h.end) for h in doc.headings],
            entities=doc.entities,
            numbers=doc.numbers,
            min_words=cfg.min_words,
            max_candidates=cfg.max_candidates,
        )
        ranked = prepare(cands, self._title_terms(doc), textrank=cfg.weights.textrank != 0)
        if max_words is not None:
            count = None
        elif ratio is not None:
            count = max(1, math.ceil(ratio * len(ranked)))
        else:
            count = sentences
        picked = select(ranked, cfg.weights, sentences=count, max_words=max_words)
        return Summary(
            text=" ".join(c.text for c, _ in picked),
            sentences=[
                SummarySentence(start=c.start, end=c.end, text=c.text, score=score)
                for c, score in picked
            ],
        )

    def _title_terms(self, doc: Document) -> list[str]:
        """Content lemmas of the title: ``doc.title``, else the level-1 heading."""
        title = doc.title
        if not title:
            top = [h for h in doc.headings if h.level == 1]
            title = top[0].text if top else None
        if not title:
            return []
        return term_list(self.services.nlp(title)[:])


@hookimpl
def register_stages() -> list[type[Stage]]:
    return [SummaryStage]
