"""The reuse plugin: duplicates of earlier articles, and the passages taken from them.

Stage ``reuse`` (cross-article, on ``services.state``) writes ``Document.reuse``:

- ``duplicate_of``: the earliest article (by article time, then id) whose text is the same
  once case, quotes and whitespace are normalised (``words.fingerprint``); null for the
  first of its group, the origin. Every copy claims the fingerprint, and the earliest
  claimant is the answer, whatever order the copies are processed in.
- ``sources``: earlier articles this one reuses passages of. Candidates come from MinHash
  LSH over word shingles (``sketch``); each candidate's stored text is aligned with this
  one word by word (``align``) and every run of at least ``min_words`` equal words is a
  passage, with offsets into both texts. ``similarity`` is the share of this article's
  words that lie in passages from that source.

Only origins are remembered (their text and band keys), so a later reprint points at the
first article, not at another copy. What is stored expires after ``window_days`` of
article time.
"""

from __future__ import annotations

import base64
from datetime import timedelta

import zstandard
from copydesk import (
    Document,
    Reuse,
    ReusedPassage,
    ReuseSource,
    Stage,
    StageConfig,
    StateSpace,
    hookimpl,
)
from copydesk.plugins.reuse.align import shared_runs
from copydesk.plugins.reuse.sketch import Sketcher
from copydesk.plugins.reuse.words import Words, fingerprint, shingles, words
from pydantic import Field, model_validator

__all__ = ["ReuseConfig", "ReuseStage", "register_stages"]

SPACE = "reuse"


class ReuseConfig(StageConfig):
    """Settings of the ``[stage.reuse]`` section."""

    window_days: float = Field(default=3.0, gt=0, description="How long (in article time) "
                               "an article is remembered as a possible source.")
    shingle_words: int = Field(default=5, ge=1, le=20,
                               description="Words per shingle of the MinHash sketch.")
    bands: int = Field(default=32, ge=1, le=256, description="LSH bands.")
    rows: int = Field(default=2, ge=1, le=32, description="MinHash values per band: "
                      "more rows find fewer, closer candidates.")
    min_words: int = Field(default=12, ge=3, description="Shortest passage, in words, "
                           "that counts as reused.")
    max_candidates: int = Field(default=20, ge=1, description="Earlier articles aligned at "
                                "most per article (those sharing the most bands first).")

    @model_validator(mode="after")
    def _seed_fits(self) -> ReuseConfig:
        if self.shingle_words > self.min_words:
            raise ValueError("shingle_words must not exceed min_words")
        return self


class ReuseStage(Stage[ReuseConfig]):
    """Marks duplicates of earlier articles and the passages reused from them."""

    name = "reuse"
    requires = ("text",)
    provides = ("reuse",)
    cross_article = True
    description = ("Duplicates of earlier articles (normalised text) and passages reused "
                   "from them (MinHash LSH, then word alignment).")

    def setup(self) -> None:
        self._sketcher = Sketcher(self.config.bands, self.config.rows)

    def process(self, doc: Document) -> None:
        state = self.services.state
        space = state.space(SPACE, window=timedelta(days=self.config.window_days))
        at = state.article_time(doc)
        origin, _ = space.first("text:" + fingerprint(doc.text), doc.id, at=at)
        mine = words(doc.text)
        bands = self._sketcher.band_keys(shingles(mine.forms, self.config.shingle_words))
        sources = self._sources(space, doc, mine, bands, at)
        doc.reuse = Reuse(duplicate_of=origin if origin != doc.id else None, sources=sources)
        if origin == doc.id and bands:
            space.put({"doc:" + doc.id: pack(at, doc.text)}, at=at)
            space.add({band: [doc.id] for band in bands}, at=at)

    def _sources(self, space: StateSpace, doc: Document, mine: Words, bands: list[str],
                 at: float) -> list[ReuseSource]:
        shared: dict[str, int] = {}
        for members in space.members(*bands, at=at).values():
            for other in members:
                if other != doc.id:
                    shared[other] = shared.get(other, 0) + 1
        if not shared:
            return []
        ranked = sorted(shared, key=lambda o: (-shared[o], o))[:self.config.max_candidates]
        stored = space.get(*("doc:" + o for o in ranked), at=at)
        sources = []
        for other in ranked:
            value = stored.get("doc:" + other)
            if value is None:
                continue
            when, text = unpack(value)
            if (when, other) >= (at, doc.id):
                continue  # a later article is not a source
            source = self._align(doc, mine, other, text)
            if source is not None:
                sources.append(source)
        sources.sort(key=lambda s: (-s.similarity, s.id))
        return sources

    def _align(self, doc: Document, mine: Words, other: str, text: str) -> ReuseSource | None:
        theirs = words(text)
        runs = shared_runs(mine, theirs, self.config.shingle_words, self.config.min_words)
        if not runs:
            return None
        passages = []
        for run in runs:
            start = mine.starts[run.start]
            end = mine.ends[run.start + run.length - 1]
            passages.append(ReusedPassage(
                start=start, end=end, text=doc.text[start:end],
                source_start=theirs.starts[run.source_start],
                source_end=theirs.ends[run.source_start + run.length - 1]))
        reused = sum(run.length for run in runs)
        return ReuseSource(id=other, similarity=round(reused / max(1, len(mine)), 4),
                           passages=passages)


def pack(at: float, text: str) -> str:
    """What is stored of an origin: its time and its text, zstd-compressed (base85)."""
    packed = base64.b85encode(zstandard.compress(text.encode("utf-8", "surrogatepass"), 9))
    return f"{at!r}\t{packed.decode('ascii')}"


def unpack(value: str) -> tuple[float, str]:
    when, _, packed = value.partition("\t")
    raw = zstandard.decompress(base64.b85decode(packed))
    return float(when), raw.decode("utf-8", "surrogatepass")


@hookimpl
def register_stages() -> list[type[Stage]]:
    return [ReuseStage]
