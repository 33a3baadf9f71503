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

Only origins are remembered (their text under a 48-bit handle of their id, and their band
digests as postings pointing at it), so a later reprint points at the first article, not at
another copy. What is stored expires after ``window_days`` of article time.

An original processed after its copies overtakes them (``StateSpace.claim`` names them): a
copy that called itself the origin is no longer remembered as one, the copies of the same
batch are done again here, and the others are handed to ``services.revisit`` (workers re-run
this stage on the stored Documents; in-process a Document already written stays).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from datetime import timedelta

import zstandard
from copydesk import (
    Document,
    Reuse,
    ReusedPassage,
    ReuseSource,
    Stage,
    StageConfig,
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
        overtaken = self._reuse([doc])
        if overtaken:
            self.services.revisit(overtaken, self.name)

    def process_batch(self, docs: Sequence[Document]) -> None:
        """The Documents together, with the answers of claiming them one after the other;
        then those of the batch an earlier-dated original overtook are done again (the
        others are handed to ``services.revisit``)."""
        here = {doc.id: doc for doc in docs}
        again = self._reuse(docs)
        redo = [here[i] for i in again if i in here]
        if redo:
            self._reuse(redo)
        elsewhere = [i for i in again if i not in here]
        if elsewhere:
            self.services.revisit(elsewhere, self.name)

    def _reuse(self, docs: Sequence[Document]) -> list[str]:
        """Write each Document's ``reuse``, as if done one after the other; the ids of the
        copies they overtook as their origin.

        The state is read in three round trips for the whole batch (claims; postings of
        every band; the stored texts of every candidate), at the batch's latest article
        time; what a Document of the batch writes (a forgotten origin, its own text and
        postings) is seen by the Documents after it from here."""
        state = self.services.state
        space = state.space(SPACE, window=timedelta(days=self.config.window_days))
        ats = [state.article_time(doc) for doc in docs]
        claims = space.claim_many(("t:" + fingerprint(doc.text), doc.id, at)
                                  for doc, at in zip(docs, ats, strict=True))
        mine = [words(doc.text) for doc in docs]
        bands = [self._sketcher.band_keys(shingles(w.forms, self.config.shingle_words))
                 for w in mine]
        found = space.postings(*dict.fromkeys(b for bs in bands for b in bs), at=max(ats))
        origins = [claim.first == doc.id for doc, claim in zip(docs, claims, strict=True)]
        ranked = self._rank(docs, bands, origins, found)
        stored = space.get(*dict.fromkeys("d:" + o for r in ranked for o in r), at=max(ats))
        #: what the batch wrote so far, by handle: (time, id, text), or None once forgotten
        written: dict[str, tuple[float, str, str] | None] = {}
        overtaken: dict[str, None] = {}
        for i, doc in enumerate(docs):
            if claims[i].overtaken:  # processed first: none of them is an origin any more
                gone = [handle(o) for o in claims[i].overtaken]
                space.forget(*("d:" + h for h in gone))
                written.update(dict.fromkeys(gone))
                overtaken.update(dict.fromkeys(claims[i].overtaken))
            sources = []
            cutoff = ats[i] - self.config.window_days * 86_400
            for mark in ranked[i]:
                if mark in written:
                    origin = written[mark]
                    if origin is None:
                        continue
                else:
                    value = stored.get("d:" + mark)
                    if value is None:
                        continue
                    origin = unpack(value)
                when, other, text = origin
                if (when, other) >= (ats[i], doc.id) or when < cutoff:
                    continue  # a later article is not a source, nor one past the window
                source = self._align(doc, mine[i], other, text)
                if source is not None:
                    sources.append(source)
            sources.sort(key=lambda s: (-s.similarity, s.id))
            doc.reuse = Reuse(duplicate_of=None if origins[i] else claims[i].first,
                              sources=sources)
            if origins[i] and bands[i]:
                mark = handle(doc.id)
                space.put({"d:" + mark: pack(ats[i], doc.id, doc.text)}, at=ats[i])
                space.post(dict.fromkeys(bands[i], mark), at=ats[i])
                written[mark] = (ats[i], doc.id, doc.text)
        return list(overtaken)

    def _rank(self, docs: Sequence[Document], bands: list[list[str]], origins: list[bool],
              found: dict[str, list[str]]) -> list[list[str]]:
        """Each Document's candidates (handles), those sharing the most bands first: from
        the stored postings ``found`` and those the batch's earlier origins post."""
        posted: dict[str, dict[str, None]] = {}
        out = []
        for doc, doc_bands, origin in zip(docs, bands, origins, strict=True):
            me = handle(doc.id)
            shared: dict[str, int] = {}
            for band in doc_bands:
                for other in dict.fromkeys([*found.get(band, ()), *posted.get(band, ())]):
                    if other != me:
                        shared[other] = shared.get(other, 0) + 1
            out.append(sorted(shared, key=lambda o: (-shared[o], o))
                       [:self.config.max_candidates])
            if origin and doc_bands:
                for band in doc_bands:
                    posted.setdefault(band, {})[me] = None
        return out

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


def handle(doc_id: str) -> str:
    """A short handle of an article id for the postings (8 characters, 48 bits: two ids of
    one window share one with odds of about n**2 / 2**49, and then one is not found)."""
    digest = hashlib.blake2b(doc_id.encode("utf-8", "surrogatepass"), digest_size=6).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")


def pack(at: float, doc_id: str, text: str) -> str:
    """What is stored of an origin: its time, its id and its text, zstd-compressed (base85)."""
    packed = base64.b85encode(zstandard.compress(text.encode("utf-8", "surrogatepass"), 19))
    return f"{at!r}\t{doc_id}\t{packed.decode('ascii')}"


def unpack(value: str) -> tuple[float, str, str]:
    when, doc_id, packed = value.split("\t", 2)
    raw = zstandard.decompress(base64.b85decode(packed))
    return float(when), doc_id, raw.decode("utf-8", "surrogatepass")


@hookimpl
def register_stages() -> list[type[Stage]]:
    return [ReuseStage]
