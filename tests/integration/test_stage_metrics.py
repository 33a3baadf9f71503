"""Stage-duration histograms in Redis: what a worker adds for many documents at once reads
back as if each run had been added alone."""

from __future__ import annotations

import uuid

import pytest
import redis
from copydesk.document import StageRun
from copydesk.workers.queue.metrics import read_histograms, record_runs

pytestmark = pytest.mark.integration


def run(stage: str, ms: float, status: str = "ok") -> StageRun:
    return StageRun(stage=stage, plugin="copydesk", version="1", status=status,  # type: ignore[arg-type]
                    duration_ms=ms)


def test_runs_of_many_documents_add_up_per_stage_and_bucket(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    key = f"t{uuid.uuid4().hex[:8]}:metrics:stage_seconds"
    record_runs(client, key, [run("nlp", 40.0), run("quotes", 0.5), run("nlp", 45.0),
                              run("quotes", 3.0), run("nlp", 700.0), run("summary", 9.0,
                                                                         "skipped")])
    record_runs(client, key, [run("nlp", 30.0, "failed")])
    hists = {h.stage: h for h in read_histograms(client, key)}
    assert sorted(hists) == ["nlp", "quotes"]  # a skipped stage did not run
    nlp, quotes = hists["nlp"], hists["quotes"]
    assert (nlp.count, quotes.count) == (4, 2)
    assert nlp.sum == pytest.approx(0.815) and quotes.sum == pytest.approx(0.0035)
    assert nlp.buckets == {"0.05": 3, "1.0": 1}
    assert quotes.buckets == {"0.001": 1, "0.005": 1}
    assert nlp.cumulative()[-1] == ("+Inf", 4)


def test_nothing_to_record_writes_nothing(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    key = f"t{uuid.uuid4().hex[:8]}:metrics:stage_seconds"
    record_runs(client, key, [run("summary", 2.0, "skipped")])
    assert not client.exists(key)
