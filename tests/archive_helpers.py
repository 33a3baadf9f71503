"""Real Documents for the sink tests: corpus articles run through the default pipeline,
dated a day apart from 2005-03-01 (the corpus carries no dates), and the row counts a sink
must have written for them."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from copydesk import Pipeline
from copydesk.document import Article, Document

from tests.conftest import shared_path

START = datetime(2005, 3, 1, 9, 0, tzinfo=UTC)


def corpus_articles(count: int, start: int = 0, dated: bool = True) -> list[Article]:
    """``count`` corpus articles from line ``start``, each a day after the one before."""
    corpus = shared_path("corpus", "bbc-news-2005.jsonl")
    with corpus.open(encoding="utf-8") as lines:
        records = [json.loads(line) for line in itertools.islice(lines, start, start + count)]
    articles = []
    for i, record in enumerate(records):
        record.pop("category", None)
        if dated:
            record["published_at"] = (START + timedelta(days=i)).isoformat()
        articles.append(Article.model_validate(record))
    return articles


def corpus_documents(pipeline: Pipeline, count: int, start: int = 0) -> list[Document]:
    return list(pipeline.iter_process(corpus_articles(count, start)))


def layer_counts(doc: Document) -> dict[str, int]:
    return {"entities": len(doc.entities), "quotes": len(doc.quotes),
            "numbers": len(doc.numbers)}


def pg_counts(url: str, schema: str = "copydesk") -> dict[str, dict[str, int]]:
    """Per document id in ``schema.documents``, its rows in the three annotation tables."""
    import psycopg

    counts: dict[str, dict[str, int]] = {}
    with psycopg.connect(url) as conn:
        for (doc_id,) in conn.execute(f"SELECT id FROM {schema}.documents"):
            counts[doc_id] = {"entities": 0, "quotes": 0, "numbers": 0}
        for table in ("entities", "quotes", "numbers"):
            rows: Any = conn.execute(
                f"SELECT document_id, count(*) FROM {schema}.{table} GROUP BY document_id")
            for doc_id, n in rows:
                counts.setdefault(doc_id, {"entities": 0, "quotes": 0, "numbers": 0})[table] = n
    return counts
