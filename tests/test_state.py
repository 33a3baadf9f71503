"""The in-process shared state (``copydesk.state.MemoryState``) and article time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from copydesk import Document
from copydesk.state import MemoryState, SharedState

from tests.state_contract import *  # noqa: F403 (the backend contract, run here in memory)
from tests.state_contract import MakeState


@pytest.fixture
def make_state() -> MakeState:
    return lambda: SharedState(MemoryState())


def test_a_dated_article_is_timed_by_its_publication() -> None:
    doc = Document(id="a", raw_text="x", text="x",
                   published_at=datetime(2024, 5, 1, 12, tzinfo=UTC))
    assert SharedState().article_time(doc) == datetime(2024, 5, 1, 12,
                                                       tzinfo=UTC).timestamp()


def test_a_publication_time_without_zone_is_read_as_utc() -> None:
    doc = Document(id="a", raw_text="x", text="x", published_at=datetime(2024, 5, 1, 12))
    assert SharedState().article_time(doc) == datetime(2024, 5, 1, 12,
                                                       tzinfo=UTC).timestamp()


def test_undated_articles_keep_the_order_they_were_first_timed_in() -> None:
    state = SharedState()
    docs = [Document(id=str(i), raw_text="x", text="x") for i in range(50)]
    times = [state.article_time(d) for d in docs]
    assert times == sorted(times) and len(set(times)) == 50
    assert [state.article_time(d) for d in docs] == times  # stamped once
