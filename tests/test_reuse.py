"""The reuse stage: duplicates of earlier articles and the passages reused from them."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from copydesk import Article, Document, Pipeline
from copydesk.plugins.reuse import ReuseStage
from copydesk.plugins.reuse.words import fingerprint

from tests.conftest import shared_path
from tests.helpers import build


def corpus(*ids: str) -> dict[str, str]:
    """Texts of corpus articles by id."""
    found = {}
    with shared_path("corpus", "bbc-news-2005.jsonl").open(encoding="utf-8") as rows:
        for row in map(json.loads, rows):
            if row["id"] in ids:
                found[row["id"]] = row["text"]
    return found


TEXTS = corpus("bbc-business-001", "bbc-business-002", "bbc-sport-010")
FIRST, OTHER, SPORT = TEXTS["bbc-business-001"], TEXTS["bbc-business-002"], TEXTS["bbc-sport-010"]
DAY0 = datetime(2005, 3, 1, 9, 0)


def run(*articles: Article, **config: object) -> list[Document]:
    pipeline: Pipeline = build(ReuseStage, stage={"reuse": config} if config else {})
    return list(pipeline.iter_process(articles, batch_size=2))


def by_id(docs: list[Document]) -> dict[str, Document]:
    return {d.id: d for d in docs}


def test_the_first_of_a_text_is_its_origin() -> None:
    [doc] = run(Article(id="a", text=FIRST))
    assert doc.reuse is not None and doc.reuse.duplicate_of is None and doc.reuse.sources == []


def test_a_copy_differing_in_case_quotes_and_spacing_points_at_the_first() -> None:
    copy = FIRST.replace("'", "\u2019").replace("\n\n", "\n  \n").upper()
    docs = by_id(run(Article(id="a", text=FIRST), Article(id="b", text=OTHER),
                     Article(id="c", text=copy)))
    assert docs["c"].reuse is not None and docs["c"].reuse.duplicate_of == "a"
    assert docs["b"].reuse is not None and docs["b"].reuse.duplicate_of is None


def test_every_later_copy_points_at_the_earliest_not_at_another_copy() -> None:
    docs = run(*(Article(id=f"copy{i}", text=FIRST) for i in range(4)))
    assert [d.reuse.duplicate_of for d in docs if d.reuse] == [None, "copy0", "copy0", "copy0"]
    assert [s.id for s in docs[3].reuse.sources] == ["copy0"]  # type: ignore[union-attr]


def test_a_one_word_change_is_not_a_duplicate() -> None:
    changed = FIRST.replace("Quarterly", "Annual", 1)
    assert fingerprint(changed) != fingerprint(FIRST)
    docs = run(Article(id="a", text=FIRST), Article(id="b", text=changed))
    assert docs[1].reuse is not None and docs[1].reuse.duplicate_of is None
    [source] = docs[1].reuse.sources
    assert source.id == "a" and source.similarity > 0.9


def test_a_dated_copy_points_at_the_copy_published_first() -> None:
    docs = by_id(run(Article(id="z-first", text=FIRST, published_at=DAY0),
                     Article(id="a-second", text=FIRST, published_at=DAY0 + timedelta(hours=2))))
    assert docs["a-second"].reuse.duplicate_of == "z-first"  # type: ignore[union-attr]


def test_a_reprint_under_a_new_lede_lists_the_passages_it_took() -> None:
    paragraphs = FIRST.split("\n\n")
    lede = "Shares in the group rose sharply in early trading after the figures came out."
    reprint = "\n\n".join([lede, *paragraphs[1:3]])
    docs = run(Article(id="wire", text=FIRST), Article(id="local", text=reprint))
    reuse = docs[1].reuse
    assert reuse is not None and reuse.duplicate_of is None
    [source] = reuse.sources
    assert source.id == "wire"
    # one run of equal words, across the paragraph break, up to the last word
    [passage] = source.passages
    assert passage.text == "\n\n".join(paragraphs[1:3]).rstrip(".")
    for p in source.passages:
        assert reprint[p.start:p.end] == p.text == FIRST[p.source_start:p.source_end]
    assert 0.7 < source.similarity < 1


def test_an_unrelated_article_has_no_sources() -> None:
    docs = run(Article(id="a", text=FIRST), Article(id="b", text=SPORT))
    assert docs[1].reuse is not None and docs[1].reuse.sources == []


def test_a_shared_run_shorter_than_min_words_is_not_a_passage() -> None:
    sentence = FIRST.split(". ")[0]  # the first sentence, about 20 words
    padded = f"{sentence}. " + SPORT
    words = len(sentence.split())
    assert run(Article(id="a", text=FIRST), Article(id="b", text=padded),
               min_words=words + 1)[1].reuse.sources == []  # type: ignore[union-attr]
    [source] = run(Article(id="a", text=FIRST), Article(id="b", text=padded),
                   min_words=words - 1, rows=1)[1].reuse.sources  # type: ignore[union-attr]
    assert source.passages[0].text.startswith(sentence[:40])


def test_an_article_published_later_is_not_a_source_of_an_earlier_one() -> None:
    paragraphs = FIRST.split("\n\n")
    early = "\n\n".join(paragraphs[:3])
    docs = run(Article(id="late", text=FIRST, published_at=DAY0 + timedelta(days=1)),
               Article(id="early", text=early, published_at=DAY0))
    assert docs[1].reuse is not None and docs[1].reuse.sources == []


def test_an_article_older_than_the_window_is_forgotten() -> None:
    reprint = "\n\n".join(FIRST.split("\n\n")[:3])
    docs = run(Article(id="old", text=FIRST, published_at=DAY0),
               Article(id="new", text=reprint, published_at=DAY0 + timedelta(days=3)),
               window_days=2)
    assert docs[1].reuse is not None and docs[1].reuse.sources == []


def test_a_seed_longer_than_the_shortest_passage_is_refused() -> None:
    from copydesk import PipelineError

    with pytest.raises(PipelineError, match="shingle_words must not exceed min_words"):
        build(ReuseStage, stage={"reuse": {"shingle_words": 9, "min_words": 8}})


def reuse_of(docs: list[Document]) -> dict[str, tuple[str | None, list[str]]]:
    return {d.id: (d.reuse.duplicate_of, [s.id for s in d.reuse.sources])  # type: ignore[union-attr]
            for d in docs}


def test_copies_processed_before_their_original_end_as_in_publication_order() -> None:
    dated = [Article(id=f"copy{i}", text=FIRST, published_at=DAY0 + timedelta(hours=i))
             for i in range(4)] + [Article(id="other", text=OTHER, published_at=DAY0)]
    pipeline: Pipeline = build(ReuseStage)
    in_order = reuse_of(pipeline.process_many(dated))
    pipeline = build(ReuseStage)
    reversed_ = reuse_of(pipeline.process_many(dated[::-1]))
    assert reversed_ == in_order
    assert in_order["copy3"] == ("copy0", ["copy0"]) and in_order["copy0"] == (None, [])


def test_a_batch_answers_as_its_articles_one_after_the_other() -> None:
    paragraphs = FIRST.split("\n\n")
    reprint = "\n\n".join(["A new first paragraph, written for this paper alone.",
                            *paragraphs[1:3]])
    hour = timedelta(hours=1)
    articles = [Article(id="copy", text=FIRST, published_at=DAY0 + 2 * hour),
                Article(id="reprint", text=reprint, published_at=DAY0 + 3 * hour),
                Article(id="sport", text=SPORT, published_at=DAY0),
                Article(id="original", text=FIRST, published_at=DAY0),  # overtakes "copy"
                Article(id="reprint-2", text=reprint, published_at=DAY0 + 4 * hour),
                Article(id="other", text=OTHER, published_at=DAY0 + hour),
                Article(id="late-copy", text=FIRST, published_at=DAY0 + 5 * hour)]
    one_by_one: Pipeline = build(ReuseStage)
    alone: dict[str, tuple[str | None, list[str]]] = {}
    for article in articles:
        alone |= reuse_of(list(one_by_one.iter_process([article], batch_size=1)))
    together = reuse_of(list(build(ReuseStage).iter_process(articles, batch_size=8)))
    # alone, "copy" was written before its original came (a revisit corrects it later); in
    # a batch with its original it is done again at once
    assert alone["copy"] == (None, [])
    assert together == alone | {"copy": ("original", ["original"])}
    assert together["late-copy"][0] == "original"


def test_a_copy_finished_in_an_earlier_batch_is_handed_back_for_revisiting() -> None:
    pipeline: Pipeline = build(ReuseStage)
    asked: list[tuple[list[str], str]] = []
    pipeline.services.on_revisit = lambda ids, stage: asked.append((ids, stage))
    [copy] = pipeline.process_many([Article(id="copy", text=FIRST,
                                            published_at=DAY0 + timedelta(hours=1))])
    [original] = pipeline.process_many([Article(id="original", text=FIRST, published_at=DAY0)])
    assert copy.reuse.duplicate_of is None  # type: ignore[union-attr]  # as it was written
    assert original.reuse.duplicate_of is None  # type: ignore[union-attr]
    assert asked == [(["copy"], "reuse")]
    [again], _ = zip(*pipeline.reprocess_many([_without_reuse(copy)]), strict=True)
    assert reuse_of([again]) == {"copy": ("original", ["original"])}


def _without_reuse(doc: Document) -> Document:
    doc.runs = [r for r in doc.runs if r.stage != "reuse"]
    return doc
