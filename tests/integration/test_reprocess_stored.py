"""``copydesk reprocess --stored``: plan stored Documents against the workers' pipeline,
enqueue the stale ones, and let workers replace them atomically with only the stale
stages re-run; a newer submission is never overwritten; coverage per stage."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from copydesk import Pipeline, Settings
from copydesk.document import Article, Document

from tests.conftest import shared_path
from tests.integration.conftest import COPYDESK, Cluster
from tests.integration.gateway_fixtures import start_gateway

pytestmark = pytest.mark.integration


def uid(stem: str) -> str:
    return f"{stem}-{uuid.uuid4().hex[:8]}"


def restart_workers(cluster: Cluster, names: list[str], **env: str) -> None:
    """Stop the cluster's workers and start new ones with ``env`` added (a redeploy)."""
    cluster.stop()
    cluster.workers.clear()
    cluster.extra_env.update(env)
    for name in names:
        cluster.start_worker(name, concurrency=1)


def wait_for_revision(cluster: Cluster, ids: list[str], revision: int,
                      timeout: float = 180) -> dict[str, Document]:
    store = cluster.client().store
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = store.stored_documents(ids)
        if all(rev >= revision for _, _, rev, _, _ in rows):
            return {i: Document.model_validate_json(raw) for i, _, _, _, raw in rows if raw}
        time.sleep(0.5)
    raise AssertionError(f"not all reprocessed: {[(i, r) for i, _, r, _, _ in rows]}")


def wait_idle(cluster: Cluster, timeout: float = 60) -> None:
    client = cluster.client()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = client.queue_info(0)
        if info.depth == 0 and info.unacked == 0:
            return
        time.sleep(0.3)
    raise AssertionError("the queue did not drain")


def comparable(doc: Document) -> dict[str, Any]:
    """Timings and the worker that ran each stage aside."""
    data = json.loads(doc.to_json())
    for run in data["runs"]:
        run.pop("duration_ms")
        run.pop("worker")
    return data


def test_stored_documents_are_reprocessed_with_an_event_and_coverage(
        make_cluster, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cluster: Cluster = make_cluster(COPYDESK_PIPELINE__STAGES="probe,fragile")
    cluster.start_worker("r1", concurrency=1)
    client = cluster.client()
    ids = [uid("stored") for _ in range(3)]
    client.submit_many([{"id": i, "text": f"Stored article {i}."} for i in ids])
    client.wait(ids, timeout=60)
    before = {i: client.result(i) for i in ids}
    restart_workers(cluster, ["r2"], COPYDESK_STAGE__PROBE__DELAY="0.01")
    coverage = json.loads(cluster.cli("queue", "--json").stdout)["coverage"]
    assert coverage["probe"] == {"current": 0, "stale": 3, "missing": 0, "failed": 0}
    assert coverage["fragile"]["current"] == 3
    assert "coverage of stored documents" in cluster.cli("queue").stdout
    gateway = start_gateway(cluster, tmp_path)
    try:
        with gateway.client() as http:
            body = http.get("/v1/coverage").json()
            metrics = http.get("/metrics").text
    finally:
        gateway.stop()
    assert body["stages"]["probe"]["stale"] == 3 and body["stages"]["fragile"]["current"] == 3
    assert 'copydesk_stored_documents{stage="probe",state="stale"} 3' in metrics
    plan = json.loads(cluster.cli("reprocess", "--stored", "--dry-run", "--json").stdout)
    assert plan["to_reprocess"] == 3 and plan["stages"]["probe"]["stale_by"]["config"] == 3
    cursor = client.store.last_event_id()
    result = cluster.cli("reprocess", "--stored", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["enqueued"] == 3
    after = wait_for_revision(cluster, ids, 1)
    for i in ids:
        old, new = before[i], after[i]
        assert old is not None
        assert [r.stage for r in new.runs] == ["probe", "fragile"]
        assert new.runs[1] == old.runs[1]  # fragile kept as it was
        assert new.runs[0].worker == f"r2@{cluster.prefix}"
    events = [e for e in client.events(since=cursor, idle_timeout=1)
              if e.get("reprocessed") == "1"]
    assert sorted(e["id"] for e in events) == sorted(ids)
    assert all(e["stages"] == "probe" and e["status"] == "done" for e in events)
    coverage = json.loads(cluster.cli("queue", "--json").stdout)["coverage"]
    assert coverage["probe"]["current"] == 3
    again = json.loads(cluster.cli("reprocess", "--stored", "--json").stdout)
    assert again["enqueued"] == 0  # nothing stale any more


def test_a_newer_submission_is_never_overwritten_by_an_older_reprocess(
        make_cluster) -> None:  # type: ignore[no-untyped-def]
    from copydesk.workers.queue.reprocess import enqueue, plan_stored, workers_spec

    cluster: Cluster = make_cluster(COPYDESK_PIPELINE__STAGES="probe,fragile")
    cluster.start_worker("n1", concurrency=1)
    client = cluster.client()
    article_id = uid("newer")
    client.submit({"id": article_id, "text": "The first version of the article."})
    client.wait(article_id, timeout=60)
    restart_workers(cluster, ["n2"], COPYDESK_STAGE__PROBE__DELAY="0.01")
    spec, _ = workers_spec(client.store)
    [old_plan] = [p for p in plan_stored(client.store, spec) if p.id == article_id]
    assert old_plan.plan.changes
    client.submit({"id": article_id, "text": "The second, newer version."}, force=True)
    client.wait(article_id, timeout=60)
    newer = client.result_json(article_id)
    assert enqueue(client.store, [old_plan]) == 1  # the reprocess planned before the submit
    wait_idle(cluster)
    assert client.result_json(article_id) == newer
    [(_, _, revision, _, _)] = client.store.stored_documents([article_id])
    assert revision == 0
    assert not client.store.replace_document(article_id, old_plan.task_id, 0, "{}", "done",
                                             "someone", ["probe"])


def test_stored_without_a_live_worker_fails_after_the_bounded_wait_saying_so(
        make_cluster) -> None:  # type: ignore[no-untyped-def]
    cluster: Cluster = make_cluster(COPYDESK_QUEUE__WORKER_WAIT="2")
    result = cluster.cli("reprocess", "--stored", "--dry-run")
    assert result.returncode == 1
    assert "waiting up to 2 s for one (setting queue.worker_wait)" in result.stderr
    assert ("no live worker published its pipeline in 2 s (setting queue.worker_wait): "
            "start `copydesk worker`") in result.stderr


def test_stored_right_after_a_worker_starts_waits_for_its_pipeline(
        make_cluster, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cluster: Cluster = make_cluster(COPYDESK_QUEUE__WORKER_WAIT="300")
    stderr = tmp_path / "reprocess.err"
    with stderr.open("w") as err:
        planning = subprocess.Popen([COPYDESK, "reprocess", "--stored", "--dry-run", "--json"],
                                    env=cluster.env(), stdout=subprocess.PIPE, stderr=err,
                                    text=True)
    deadline = time.monotonic() + 120
    while "waiting up to 300 s" not in stderr.read_text() and time.monotonic() < deadline:
        assert planning.poll() is None, stderr.read_text()
        time.sleep(0.2)
    cluster.start_worker("late", concurrency=1)  # starts while the command waits
    out, _ = planning.communicate(timeout=300)
    assert planning.returncode == 0, stderr.read_text()
    assert json.loads(out)["documents"] == 0


def corpus_articles(n: int) -> list[dict[str, Any]]:
    out = []
    with shared_path("corpus", "bbc-news-2005.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            data = json.loads(line)
            data.pop("category", None)
            out.append(data)
            if len(out) == n:
                break
    return out


BUILT_IN = "cleaning,entities,numbers,quotes,summary"


@pytest.mark.slow
def test_forty_corpus_articles_through_two_workers_reprocess_only_the_summary(
        make_cluster, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    articles = corpus_articles(40)
    cluster: Cluster = make_cluster(
        COPYDESK_LOAD_PLUGINS=f"queue,{BUILT_IN}", COPYDESK_PIPELINE__STAGES=BUILT_IN,
        COPYDESK_WORKER__SOFT_TIME_LIMIT="30", COPYDESK_WORKER__TIME_LIMIT="40",
        COPYDESK_WORKER__VISIBILITY_TIMEOUT="60")
    cluster.start_worker("a1", concurrency=1)
    cluster.start_worker("a2", concurrency=1)
    client = cluster.client()
    ids = [a["id"] for a in articles]
    client.submit_many(articles)
    done = client.wait(ids, timeout=300)
    assert all(s is not None and s.status == "done" for s in done.values())
    originals = {i: client.result(i) for i in ids}
    restart_workers(cluster, ["b1", "b2"], COPYDESK_STAGE__SUMMARY__SENTENCES="2")

    dry = cluster.cli("reprocess", "--stored", "--dry-run", "--json", timeout=120)
    assert dry.returncode == 0, dry.stderr
    stages = json.loads(dry.stdout)["stages"]
    assert stages["summary"]["stale_by"]["config"] == stages["summary"]["stale"] == 40
    assert all(stages[s]["current"] == 40 for s in ("cleaning", "entities", "numbers", "quotes"))
    assert "40 (config)" in cluster.cli("reprocess", "--stored", "--dry-run").stdout

    assert cluster.cli("reprocess", "--stored", timeout=120).returncode == 0
    reprocessed = wait_for_revision(cluster, ids, 1, timeout=300)
    workers = {r.worker for d in reprocessed.values() for r in d.runs if r.stage == "summary"}
    assert workers <= {f"b1@{cluster.prefix}", f"b2@{cluster.prefix}"}

    settings = Settings.model_validate({"stage": {"summary": {"sentences": 2}},
                                        "pipeline": {"stages": BUILT_IN}})
    fresh = Pipeline.build(settings).process_many(
        [Article.model_validate(a) for a in articles])
    for new, article in zip(fresh, articles, strict=True):
        doc, original = reprocessed[article["id"]], originals[article["id"]]
        assert original is not None
        assert comparable(doc) == comparable(new)
        assert doc.runs[:-1] == original.runs[:-1]  # every other run unchanged
        for layer in ("text", "removed", "headings", "entities", "numbers", "quotes"):
            assert getattr(doc, layer) == getattr(original, layer)
