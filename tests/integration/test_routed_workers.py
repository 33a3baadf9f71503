"""A stage routed to its own queue, with real workers: a default worker and one serving the
routed queue each run their own stages of every article, and killing the routed worker
mid-run loses nothing and runs nothing twice."""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from pathlib import Path

import pytest
import redis
from copydesk import Pipeline
from copydesk.document import Article
from copydesk.settings import Settings

from tests.integration.conftest import BATCH_SIZES, Cluster
from tests.integration.test_scaling import corpus_articles

pytestmark = pytest.mark.integration


def routed_cluster(make_cluster, route: str, **env: str) -> tuple[Cluster, str]:  # type: ignore[no-untyped-def]
    cluster: Cluster = make_cluster(**env)
    heavy = f"{cluster.queue}-heavy"
    cluster.extra_env[f"COPYDESK_PIPELINE__ROUTES__{route.upper()}"] = heavy
    return cluster, heavy


def runs_by_worker(cluster: Cluster, ids: list[str]) -> dict[str, Counter[str]]:
    client = cluster.client()
    out: dict[str, Counter[str]] = {}
    for article_id in ids:
        doc = client.result(article_id)
        assert doc is not None, article_id
        for run in doc.runs:
            out.setdefault(run.stage, Counter())[(run.worker or "").split("@")[0]] += 1
    return out


@pytest.mark.parametrize("batch_size", BATCH_SIZES, indirect=True)
def test_each_worker_runs_only_the_stages_of_its_queue(make_cluster) -> None:  # type: ignore[no-untyped-def]
    cluster, heavy = routed_cluster(make_cluster, "fragile")
    cluster.start_worker("default")
    cluster.start_worker("heavy", 2, "--queues", heavy)
    articles = corpus_articles(30)
    ids = [a["id"] for a in articles]
    path = cluster.logdir / "articles.jsonl"
    path.write_text("".join(json.dumps(a) + "\n" for a in articles), encoding="utf-8")
    out = cluster.cli("submit", str(path))
    assert out.returncode == 0, out.stderr
    final = cluster.client().wait(ids, timeout=60)
    assert all(s is not None and s.status == "done" for s in final.values())
    assert runs_by_worker(cluster, ids) == {"probe": Counter(default=30),
                                            "fragile": Counter(heavy=30)}
    status = json.loads(cluster.cli("status", "--json", ids[0]).stdout)
    assert status["segment"] == f"2/2 {heavy}: fragile"
    table = cluster.cli("status", ids[0]).stdout
    assert "segment" in table and "2/2" in table
    queues = json.loads(cluster.cli("queue", "--json").stdout)["queues"]
    assert queues == {cluster.queue: {"depth": 0, "workers": 1},
                      heavy: {"depth": 0, "workers": 1}}
    shown = cluster.cli("queue").stdout
    assert f"queue {heavy}: 0 waiting, 1 live workers" in " ".join(shown.split())


@pytest.mark.parametrize("batch_size", BATCH_SIZES, indirect=True)
def test_a_routed_first_stage_is_handed_on_and_back_and_a_killed_worker_loses_nothing(
        make_cluster) -> None:  # type: ignore[no-untyped-def]
    cluster, heavy = routed_cluster(make_cluster, "probe", COPYDESK_STAGE__PROBE__DELAY="0.2")
    cluster.start_worker("default")
    victim = cluster.start_worker("heavy", 2, "--queues", heavy)
    articles = corpus_articles(40)
    ids = [a["id"] for a in articles]
    client = cluster.client()
    assert all(r.outcome == "queued" for r in client.submit_many(articles))
    r = redis.Redis.from_url(cluster.redis_url, decode_responses=True)
    deadline = time.monotonic() + 60
    while r.zcard(f"{cluster.prefix}:index:done") < 8:
        assert time.monotonic() < deadline, "the workers did not get going"
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)
    time.sleep(1)
    cluster.start_worker("heavy2", 2, "--queues", heavy)
    final = client.wait(ids, timeout=120)
    assert all(s is not None and s.status == "done" for s in final.values()), Counter(
        s.status if s else "unknown" for s in final.values())
    assert {s.completions for s in final.values() if s} == {1}
    events = r.xrange(f"{cluster.prefix}:events")
    done = Counter(f["id"] for _, f in events if f["status"] == "done")
    assert set(done.values()) == {1}
    by_stage = runs_by_worker(cluster, ids)
    assert set(by_stage["probe"]) <= {"heavy", "heavy2"} and by_stage["probe"]["heavy2"] > 0
    assert set(by_stage["fragile"]) == {"default"}
    # every article ran each stage exactly once in its final Document
    for article_id in ids:
        doc = client.result(article_id)
        assert doc is not None and [run.stage for run in doc.runs] == ["probe", "fragile"]


def test_a_worker_for_a_queue_no_stage_is_routed_to_refuses_to_start(make_cluster) -> None:  # type: ignore[no-untyped-def]
    cluster, heavy = routed_cluster(make_cluster, "fragile")
    out = cluster.cli("worker", "--queues", "nowhere")
    assert out.returncode != 0 and "'nowhere'" in out.stderr and heavy in out.stderr


@pytest.mark.slow
def test_the_real_pipeline_with_summary_routed_gives_the_same_layers(
        make_cluster, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cluster, heavy = routed_cluster(make_cluster, "summary")
    stages = "cleaning,entities,numbers,quotes,summary"
    env = {"COPYDESK_LOAD_PLUGINS": "queue,cleaning,entities,numbers,quotes,summary",
           "COPYDESK_PIPELINE__STAGES": stages}
    cluster.extra_env.update(env)
    cluster.start_worker("default", 1)
    cluster.start_worker("heavy", 1, "--queues", heavy)
    articles = corpus_articles(30)
    ids = [a["id"] for a in articles]
    path = tmp_path / "articles.jsonl"
    path.write_text("".join(json.dumps(a) + "\n" for a in articles), encoding="utf-8")
    assert cluster.cli("submit", str(path)).returncode == 0
    final = cluster.client().wait(ids, timeout=240)
    assert all(s is not None and s.status == "done" for s in final.values())
    by_stage = runs_by_worker(cluster, ids)
    assert by_stage["summary"] == Counter(heavy=30)
    for stage in stages.split(",")[:-1]:
        assert by_stage[stage] == Counter(default=30)
    unrouted = Pipeline.build(Settings(pipeline={"stages": stages}))
    client = cluster.client()
    for article in articles:
        routed_doc = client.result(article["id"])
        fresh = unrouted.process(Article(**article))
        assert routed_doc is not None
        for layer in ("text", "entities", "numbers", "quotes", "summary", "headings"):
            assert getattr(routed_doc, layer) == getattr(fresh, layer), (article["id"], layer)
