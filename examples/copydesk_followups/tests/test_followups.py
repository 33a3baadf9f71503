"""The followups stage on a stream of articles, with copydesk's test kit."""

from __future__ import annotations

from datetime import datetime, timedelta

from copydesk import Article
from copydesk.testing import assert_valid_document, run_stream

MONDAY = datetime(2025, 3, 3, 8, 0)


def article(id: str, title: str, hours: float) -> Article:
    return Article(id=id, title=title, text=f"{title}. More follows.",
                   published_at=MONDAY + timedelta(hours=hours))


def test_a_later_headline_sharing_words_follows_up_the_earlier() -> None:
    docs = run_stream("followups", [
        article("a", "Flooding closes the coastal railway", 0),
        article("b", "Snowfall expected across the north", 1),
        article("c", "Coastal railway reopens after flooding", 20),
    ])
    assert [d.extensions["followups"]["earlier"] for d in docs] == [[], [], ["a"]]
    for doc in docs:
        assert_valid_document(doc)


def test_articles_older_than_the_window_are_forgotten() -> None:
    docs = run_stream("followups", [
        article("a", "Flooding closes the coastal railway", 0),
        article("c", "Coastal railway reopens after flooding", 24 * 5),
    ], config={"days": 3})
    assert docs[1].extensions["followups"]["earlier"] == []
