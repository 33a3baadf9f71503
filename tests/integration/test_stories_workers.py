"""The stories stage on two real workers sharing one Redis clusters a dated set as one
process does: B-cubed F1 within 0.02, whatever order the workers take the articles in."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from typing import Any

import pytest
from copydesk import Article, Pipeline, Settings
from copydesk.state import SharedState
from copydesk.storyindex import StoryIndex

from tests.conftest import shared_path

pytestmark = [pytest.mark.integration, pytest.mark.slow]

START = datetime(2005, 2, 1, 6, 0)
STAGES = "entities,stories"


def dated_articles(n: int) -> list[dict[str, Any]]:
    """Corpus articles of every category, interleaved, 12 minutes apart (two days)."""
    by_category: dict[str, list[dict[str, Any]]] = {}
    with shared_path("corpus", "bbc-news-2005.jsonl").open(encoding="utf-8") as lines:
        for row in map(json.loads, lines):
            by_category.setdefault(row["category"], []).append(row)
    mixed = [row for group in zip(*by_category.values(), strict=False) for row in group]
    return [{"id": row["id"], "title": row["title"], "text": row["text"],
             "published_at": (START + timedelta(minutes=12 * i)).isoformat(),
             "metadata": {"category": row["category"]}}
            for i, row in enumerate(mixed[:n])]


def bcubed_f1(pred: dict[str, str], gold: dict[str, str]) -> float:
    """B-cubed F1 of ``pred`` against ``gold`` (both: article id -> cluster)."""
    members: dict[tuple[str, str], set[str]] = {}
    for kind, labels in (("p", pred), ("g", gold)):
        for item, label in labels.items():
            members.setdefault((kind, label), set()).add(item)
    precision = recall = 0.0
    for item in gold:
        same_pred, same_gold = members[("p", pred[item])], members[("g", gold[item])]
        both = len(same_pred & same_gold)
        precision += both / len(same_pred)
        recall += both / len(same_gold)
    p, r = precision / len(gold), recall / len(gold)
    return 2 * p * r / (p + r)


def test_two_workers_cluster_a_dated_set_as_one_process_does(make_cluster: Any) -> None:
    articles = dated_articles(300)
    ids = [a["id"] for a in articles]

    pipeline = Pipeline.build(Settings(pipeline={"stages": STAGES.split(",")}))  # type: ignore[arg-type]
    one_docs = list(pipeline.iter_process([Article(**a) for a in articles]))
    one_index = StoryIndex(pipeline.services.state)
    one = {d.id: one_index.resolve(d.story.id) for d in one_docs if d.story}
    assert sum(1 for s in set(one.values()) if list(one.values()).count(s) > 1) > 10

    cluster = make_cluster(COPYDESK_LOAD_PLUGINS="queue,entities,stories",
                           COPYDESK_PIPELINE__STAGES=STAGES)
    cluster.start_worker("w1", 1)
    cluster.start_worker("w2", 1)
    shuffled = articles[:]
    random.Random(11).shuffle(shuffled)  # the workers see them out of publication order
    client = cluster.client()
    client.submit_many(shuffled)
    client.wait(ids, timeout=1200)
    docs = {i: client.result(i) for i in ids}
    assert all(d is not None and d.status == "done" and d.story for d in docs.values())
    assert len({r.worker for d in docs.values() for r in d.runs if r.stage == "stories"}) == 2

    from copydesk.workers.plugin import shared_state

    index = StoryIndex(SharedState(shared_state(cluster.settings())))
    two = {i: index.resolve(d.story.id) for i, d in docs.items()}
    category = {a["id"]: a["metadata"]["category"] for a in articles}
    assert bcubed_f1(two, one) >= 0.98
    assert abs(bcubed_f1(two, category) - bcubed_f1(one, category)) <= 0.02
