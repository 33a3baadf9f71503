"""The queue end to end: real Redis, real ``copydesk worker`` processes, the CLI and the client."""

from __future__ import annotations

import base64
import json
import pickle
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import redis
import zstandard
from copydesk.document import InvalidArticle

from tests.integration.conftest import BATCH_SIZES, Cluster, free_port

pytestmark = pytest.mark.integration

DATA = Path(__file__).resolve().parents[1] / "data"
SAMPLE = DATA / "istanbul-peace-talks.txt"


def uid(stem: str) -> str:
    return f"{stem}-{uuid.uuid4().hex[:10]}"


def test_cli_submit_then_result_gives_the_document(cluster: Cluster, tmp_path: Path) -> None:
    submitted = cluster.cli("submit", str(SAMPLE), "--wait", "--timeout", "60")
    assert submitted.returncode == 0, submitted.stderr
    (article_id,) = submitted.stdout.split()
    result = cluster.cli("result", article_id)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["id"] == article_id and doc["status"] == "done"
    assert doc["extensions"]["probe"]["words"] == len(SAMPLE.read_text().split())
    assert [r["stage"] for r in doc["runs"]] == ["probe", "fragile"]


def test_cli_status_shows_done_and_the_worker(cluster: Cluster) -> None:
    article_id = uid("status")
    cluster.client().submit({"id": article_id, "text": "Ministers met in Istanbul."})
    cluster.client().wait(article_id, timeout=60)
    shown = cluster.cli("status", "--json", article_id)
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["status"] == "done" and data["worker"] == "w1@" + cluster.prefix


@pytest.mark.parametrize("batch_size", BATCH_SIZES, indirect=True)
def test_status_shows_the_slow_stage_an_article_is_running_in(make_cluster) -> None:  # type: ignore[no-untyped-def]
    slow: Cluster = make_cluster(COPYDESK_STAGE__PROBE__DELAY="2")
    slow.start_worker("progress", concurrency=1)
    client = slow.client()
    article_id = uid("progress")
    client.submit({"id": article_id, "text": "The probe stage takes two seconds here."})
    deadline = time.monotonic() + 60
    seen = None
    while time.monotonic() < deadline:
        status = client.status(article_id)
        if status is not None and status.status == "running" and status.stage:
            seen = status.stage
            break
        time.sleep(0.1)
    assert seen == "probe"
    done = client.wait(article_id, timeout=60)
    assert done is not None and done.status == "done"


def test_client_submit_wait_result(cluster: Cluster) -> None:
    client = cluster.client()
    text = "The talks in Istanbul ended without agreement, officials said on Sunday."
    sub = client.submit({"id": uid("client"), "text": text, "title": "Talks end"})
    assert sub.outcome == "queued"
    status = client.wait(sub.id, timeout=60)
    assert status is not None and status.status == "done"
    doc = client.result(sub.id)
    assert doc is not None and doc.title == "Talks end"
    assert doc.extensions["probe"]["words"] == len(text.split())


def test_submit_many_then_follow_yields_each_finished_document(cluster: Cluster) -> None:
    client = cluster.client()
    articles = [{"id": uid("many"), "text": f"Article number {i} about the talks."}
                for i in range(5)]
    cursor = client.store.last_event_id()
    results = client.submit_many(articles)
    assert [r.outcome for r in results] == ["queued"] * 5
    wanted = {a["id"] for a in articles}
    seen = set()
    for doc in client.follow(since=cursor, idle_timeout=30):
        if doc.id in wanted:
            seen.add(doc.id)
        if seen == wanted:
            break
    assert seen == wanted


def test_plain_redis_producer_gets_its_article_processed(cluster: Cluster) -> None:
    """A producer using only redis-py and the format in docs/queue.md (no celery/copydesk)."""
    article = {"id": uid("raw"), "text": "Written to Redis by hand, in the Celery format."}
    task_id = str(uuid.uuid4())
    body = [[article], {}, {"callbacks": None, "errbacks": None, "chain": None, "chord": None}]
    message = {
        "body": base64.b64encode(json.dumps(body).encode()).decode(),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": {"lang": "py", "task": "copydesk.process", "id": task_id,
                    "root_id": task_id, "parent_id": None, "group": None},
        "properties": {"correlation_id": task_id, "reply_to": "", "delivery_mode": 2,
                       "delivery_info": {"exchange": "", "routing_key": cluster.queue},
                       "priority": 0, "body_encoding": "base64",
                       "delivery_tag": str(uuid.uuid4())},
    }
    r = redis.Redis.from_url(cluster.redis_url, decode_responses=True)
    r.lpush(cluster.queue, json.dumps(message))
    status = cluster.client().wait(article["id"], timeout=60)
    assert status is not None and status.status == "done"
    raw = redis.Redis.from_url(cluster.redis_url)  # the stored Document is bytes: a zstd frame
    stored = raw.hget(f"{cluster.prefix}:article:{article['id']}", "document")
    assert stored is not None and stored[:4] == b"\x28\xb5\x2f\xfd"
    doc = json.loads(zstandard.decompress(stored))
    assert doc["text"] == article["text"]


@pytest.mark.parametrize("batch_size", BATCH_SIZES, indirect=True)
def test_same_id_twice_is_processed_once_unless_forced(cluster: Cluster) -> None:
    client = cluster.client()
    article = {"id": uid("twice"), "text": "Submitted twice by a nervous producer."}
    assert client.submit(article).outcome == "queued"
    client.wait(article["id"], timeout=60)
    again = client.submit(article)
    assert (again.outcome, again.status) == ("duplicate", "done")
    assert client.status(article["id"]).completions == 1  # type: ignore[union-attr]
    forced = client.submit(article, force=True)
    assert forced.outcome == "queued"
    final = client.wait(article["id"], timeout=60)
    assert final is not None and final.status == "done" and final.task_id == forced.task_id


def test_content_derived_id_makes_a_resubmission_a_duplicate(cluster: Cluster) -> None:
    client = cluster.client()
    text = f"No id given; the content decides it ({uuid.uuid4()})."
    first = client.submit({"text": text})
    second = client.submit({"text": text})
    assert first.id == second.id and first.id.startswith("sha256-")
    assert second.outcome == "duplicate"


def test_cli_submit_reports_a_duplicate(cluster: Cluster, tmp_path: Path) -> None:
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps({"id": uid("dup"), "text": "Once is enough."}) + "\n")
    assert cluster.cli("submit", str(path), "--wait").returncode == 0
    again = cluster.cli("submit", str(path))
    assert again.returncode == 0
    assert "not queued again" in again.stderr and "already done" in again.stderr


def test_invalid_article_is_refused_at_submit_time(cluster: Cluster) -> None:
    client = cluster.client()
    depth = client.queue_info().depth
    with pytest.raises(InvalidArticle, match="empty"):
        client.submit({"id": uid("empty"), "text": "   "})
    with pytest.raises(InvalidArticle, match="exactly one"):
        client.submit({"id": uid("both"), "text": "a", "html": "<p>a</p>"})
    with pytest.raises(InvalidArticle, match="published_at"):
        client.submit({"text": "Dated badly.", "published_at": "last Tuesday"})
    assert client.queue_info().depth == depth


def test_cli_refuses_invalid_lines_and_queues_the_rest(cluster: Cluster, tmp_path: Path) -> None:
    good = uid("good")
    path = tmp_path / "mixed.jsonl"
    path.write_text(json.dumps({"id": good, "text": "Fine."}) + "\n"
                    + json.dumps({"id": uid("bad"), "text": ""}) + "\n")
    out = cluster.cli("submit", str(path))
    assert out.returncode == 1
    assert out.stdout.split() == [good]
    assert "mixed.jsonl:2" in out.stderr and "empty" in out.stderr


def test_redis_down_at_submit_is_a_clear_error(cluster: Cluster) -> None:
    from copydesk.workers.queue.client import Client, QueueUnavailable

    url = f"redis://:secret@127.0.0.1:{free_port()}/0"
    client = Client(cluster.settings(), redis_url=url)
    with pytest.raises(QueueUnavailable, match="unavailable") as caught:
        client.submit({"text": "Nobody is listening."})
    assert "secret" not in str(caught.value)
    out = subprocess.run([*cluster_cli_prefix(), "submit", "-"], input="Nobody listens.",
                         env=cluster.env(COPYDESK_REDIS_URL=url), capture_output=True,
                         text=True, timeout=60)
    assert out.returncode != 0 and "Redis at redis://:***@127.0.0.1" in out.stderr


def cluster_cli_prefix() -> list[str]:
    from tests.integration.conftest import COPYDESK

    return [COPYDESK]


def test_failing_stage_is_recorded_in_runs_and_the_document_is_done(cluster: Cluster) -> None:
    client = cluster.client()
    article_id = uid("fragile")
    client.submit({"id": article_id, "text": "This one will BREAK-THE-STAGE, sadly."})
    status = client.wait(article_id, timeout=60)
    assert status is not None and status.status == "done"
    doc = client.result(article_id)
    assert doc is not None
    run = {r.stage: r for r in doc.runs}["fragile"]
    assert run.status == "failed" and "broke on purpose" in (run.error or "")


def probe_line(mark: str) -> int:
    source = (Path(__file__).parent / "probe_plugin.py").read_text().splitlines()
    return next(i for i, line in enumerate(source, 1) if mark in line)


def test_failing_stage_traceback_is_logged_and_kept_for_copydesk_status(cluster: Cluster) -> None:
    article_id = uid("traced")
    cluster.client().submit({"id": article_id, "text": "This one will BREAK-THE-STAGE, sadly."})
    cluster.client().wait(article_id, timeout=60)
    where = f'copydesk_probe.py", line {probe_line("broke on purpose")}, in process'
    record = json.loads(cluster.cli("status", "--json", article_id).stdout)
    assert where in record["traceback"]
    assert "ValueError: the fragile stage broke on purpose" in record["traceback"]
    shown = cluster.cli("status", article_id)
    assert where in shown.stdout and "stage 'fragile' (plugin 'probe'" in shown.stdout
    logged = [json.loads(line) for line in cluster.log("w1@" + cluster.prefix).splitlines()
              if line.startswith("{") and article_id in line]
    event = next(e for e in logged if e.get("event") == "stage failed" and "traceback" in e)
    assert event["stage"] == "fragile" and where in event["traceback"]


def test_traceback_is_not_in_the_stored_document(cluster: Cluster) -> None:
    article_id = uid("traced-doc")
    client = cluster.client()
    client.submit({"id": article_id, "text": "This one will BREAK-THE-STAGE, sadly."})
    client.wait(article_id, timeout=60)
    raw = client.result_json(article_id)
    assert raw is not None and "Traceback" not in raw


def test_failing_required_stage_fails_the_article(make_cluster) -> None:  # type: ignore[no-untyped-def]
    strict: Cluster = make_cluster(COPYDESK_PIPELINE__REQUIRED="fragile")
    strict.start_worker("strict", concurrency=1)
    client = strict.client()
    article_id = uid("required")
    client.submit({"id": article_id, "text": "Required, and it will BREAK-THE-STAGE."})
    status = client.wait(article_id, timeout=60)
    assert status is not None and status.status == "failed"
    assert "required stage 'fragile' failed" in (status.error or "")
    doc = client.result(article_id)
    assert doc is not None and doc.status == "failed"


def test_invalid_message_reaching_a_worker_ends_failed_and_the_worker_goes_on(
        cluster: Cluster) -> None:
    from copydesk.workers.queue.protocol import build_message

    r = redis.Redis.from_url(cluster.redis_url, decode_responses=True)
    bad_id = uid("badmsg")
    r.lpush(cluster.queue, build_message({"id": bad_id, "text": ""}, cluster.queue))
    client = cluster.client()
    status = client.wait(bad_id, timeout=60)
    assert status is not None and status.status == "failed"
    assert "invalid article" in (status.error or "") and "empty" in (status.error or "")
    after = client.submit({"id": uid("after"), "text": "The next article is fine."})
    assert client.wait(after.id, timeout=60).status == "done"  # type: ignore[union-attr]


def test_pickled_message_is_refused_logged_and_never_executed(cluster: Cluster,
                                                              tmp_path: Path) -> None:
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (Path.touch, (marker,))

    task_id = str(uuid.uuid4())
    message = {
        "body": base64.b64encode(pickle.dumps(((Exploit(),), {}, {}))).decode(),
        "content-encoding": "binary",
        "content-type": "application/x-python-serialize",
        "headers": {"lang": "py", "task": "copydesk.process", "id": task_id},
        "properties": {"delivery_info": {"exchange": "", "routing_key": cluster.queue},
                       "body_encoding": "base64", "delivery_tag": str(uuid.uuid4()),
                       "priority": 0},
    }
    r = redis.Redis.from_url(cluster.redis_url)
    r.lpush(cluster.queue, json.dumps(message))
    # an ordinary article queued behind it is processed, so the pickle was dealt with
    client = cluster.client()
    later = client.submit({"id": uid("after-pickle"), "text": "Plain JSON, after the pickle."})
    assert client.wait(later.id, timeout=60).status == "done"  # type: ignore[union-attr]
    assert not marker.exists()
    kept = [e for e in client.store.rejected(limit=1000) if e["task_id"] == task_id]
    assert [e["code"] for e in kept] == ["content_type"]
    assert "'application/x-python-serialize' is not 'application/json'" in kept[0]["reason"]
    assert "message rejected" in cluster.log("w1@" + cluster.prefix)


@pytest.mark.parametrize("batch_size", BATCH_SIZES, indirect=True)
def test_poison_article_is_dead_lettered_shown_and_resubmittable(cluster: Cluster) -> None:
    client = cluster.client()
    article_id = uid("poison")
    client.submit({"id": article_id, "text": "This article will KILL-THE-WORKER each time."})
    status = client.wait(article_id, timeout=90)
    assert status is not None and status.status == "failed"
    assert status.attempts == 2  # max_retries=1: the first try and one retry
    assert "gave up after 2 attempts" in (status.error or "")
    assert "worker process was lost" in (status.error or "")
    assert "killed for memory" in (status.error or "") or "OOM killer" in (status.error or "")
    dead = [d for d in client.dead_letters() if d["id"] == article_id]
    assert len(dead) == 1 and dead[0]["article"]["text"].startswith("This article")
    shown = cluster.cli("queue")
    assert shown.returncode == 0 and article_id in shown.stdout
    listed = json.loads(cluster.cli("queue", "--json").stdout)
    assert listed["workers"] and listed["workers"][0]["alive"]
    resubmitted = cluster.cli("resubmit-dead", article_id)
    assert resubmitted.returncode == 0 and resubmitted.stdout.split() == [article_id]
    again = client.wait(article_id, timeout=90)  # the new submission's end, not the old one's
    assert again is not None and again.status == "failed"  # still poison: parked again
    assert again.task_id != status.task_id
    # the old letter left the list when it was re-submitted; only the new one is there
    assert [d["task_id"] for d in client.dead_letters() if d["id"] == article_id] == [
        again.task_id]


@pytest.mark.parametrize("batch_size", BATCH_SIZES, indirect=True)
def test_article_over_the_time_limit_is_retried_then_failed_with_the_reason(
        make_cluster) -> None:  # type: ignore[no-untyped-def]
    slow: Cluster = make_cluster(COPYDESK_STAGE__PROBE__DELAY="5")  # soft limit is 4 s
    slow.start_worker("slow", concurrency=1)
    client = slow.client()
    article_id = uid("slow")
    client.submit({"id": article_id, "text": "Every article takes too long here."})
    status = client.wait(article_id, timeout=90)
    assert status is not None and status.status == "failed"
    assert status.attempts == 2
    assert "soft time limit of 4.0s exceeded in stage 'probe'" in (status.error or "")
    assert [d["id"] for d in client.dead_letters()] == [article_id]


@pytest.mark.parametrize("batch_size", BATCH_SIZES, indirect=True)
def test_article_that_ignores_the_soft_limit_is_killed_at_the_hard_limit_and_dead_lettered(
        cluster: Cluster) -> None:
    client = cluster.client()
    article_id = uid("stubborn")
    client.submit({"id": article_id, "text": "This one will IGNORE-THE-SOFT-LIMIT forever."})
    status = client.wait(article_id, timeout=120)
    assert status is not None and status.status == "failed"
    assert status.attempts == 2
    assert "hard time limit of 6.0s exceeded" in (status.error or "")
    after = client.submit({"id": uid("after-hard"), "text": "The worker is still serving."})
    assert client.wait(after.id, timeout=60).status == "done"  # type: ignore[union-attr]


@pytest.mark.parametrize("batch_size", BATCH_SIZES, indirect=True)
def test_worker_rides_out_a_redis_restart_mid_article(
        make_cluster, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.integration.conftest import REDIS_SERVER

    port = free_port()
    command = [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "yes", "--appendfsync", "always", "--dir", str(tmp_path)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        wait_for_redis(url)
        flaky: Cluster = make_cluster(COPYDESK_REDIS_URL=url, COPYDESK_STAGE__PROBE__DELAY="3")
        flaky.redis_url = url
        flaky.start_worker("flaky", concurrency=1)
        client = flaky.client()
        article_id = uid("outage")
        client.submit({"id": article_id, "text": "Redis goes away while this one runs."})
        deadline = time.monotonic() + 60
        while (client.status(article_id) or Empty).status != "running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        server.terminate()
        server.wait(timeout=10)
        time.sleep(2)
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        wait_for_redis(url)
        status = flaky.client().wait(article_id, timeout=90)
        assert status is not None and status.status == "done"
        assert status.completions == 1
        later = client.submit({"id": uid("after-outage"), "text": "And life goes on."})
        assert client.wait(later.id, timeout=60).status == "done"  # type: ignore[union-attr]
    finally:
        server.terminate()
        server.wait(timeout=10)


class Empty:
    status = None


def wait_for_redis(url: str) -> None:
    client = redis.Redis.from_url(url)
    for _ in range(200):
        try:
            client.ping()
            return
        except redis.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError("redis-server did not start")
