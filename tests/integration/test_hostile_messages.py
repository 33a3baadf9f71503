"""Malformed messages pushed straight onto the queue (redis-py LPUSH, as an attacker or a
buggy producer would): each is rejected, kept, counted and recorded, and the same worker
process goes on to finish the valid article queued behind them."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.integration.conftest import Cluster, new_cluster

pytestmark = pytest.mark.integration


def uid(stem: str) -> str:
    return f"{stem}-{uuid.uuid4().hex[:10]}"


def envelope(queue: str, body: object = None, *, raw_body: str | None = None,
             task: object = "copydesk.process", headers: dict[str, object] | None = None,
             content_type: str = "application/json") -> str:
    """The message of docs/queue.md, with any part replaced."""
    task_id = str(uuid.uuid4())
    if raw_body is None:
        raw_body = base64.b64encode(json.dumps(body).encode()).decode()
    head: dict[str, object] = {"lang": "py", "task": task, "id": task_id, "root_id": task_id,
                               "parent_id": None, "group": None}
    head.update(headers or {})
    return json.dumps({
        "body": raw_body, "content-encoding": "utf-8", "content-type": content_type,
        "headers": head,
        "properties": {"correlation_id": task_id, "reply_to": "", "delivery_mode": 2,
                       "delivery_info": {"exchange": "", "routing_key": queue},
                       "priority": 0, "body_encoding": "base64",
                       "delivery_tag": str(uuid.uuid4())},
    })


def call(article: object, *extra: object, kwargs: dict[str, object] | None = None) -> object:
    return [[article, *extra], kwargs or {},
            {"callbacks": None, "errbacks": None, "chain": None, "chord": None}]


@pytest.fixture(scope="module")
def hostile(redis_url: str, plugin_path: Path,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A worker of its own, so the messages below are the only ones it sees."""
    c = new_cluster(redis_url, plugin_path, tmp_path_factory.mktemp("hostile"))
    c.start_worker("w1", concurrency=1)
    yield c
    c.stop()


def test_no_malformed_message_stops_the_worker(hostile: Cluster) -> None:
    q = hostile.queue
    surrogate_id, deep_id, extra_id = uid("surrogate"), uid("deep"), uid("extra")
    deep_article = (f'{{"id": "{deep_id}", "text": "ok", "metadata": ' + '{"a": ' * 100_000
                    + "1" + "}" * 100_000 + "}")
    deep_body = "[[" + deep_article + "], {}, {}]"
    messages: list[tuple[str, bytes | str]] = [
        ("not_json", "this is not json {"),
        ("not_json", ""),
        ("not_json", b"\xff\xfe\x00garbage"),
        ("not_an_envelope", "[1, 2, 3]"),
        ("not_an_envelope", json.dumps({"body": "", "headers": {}})),
        ("bad_body", envelope(q, raw_body="this is %%% not base64")),
        ("content_type", envelope(q, call({"text": "yaml?"}), content_type="application/x-yaml")),
        ("unknown_task", envelope(q, call({"text": "who runs me?"}), task="copydesk.nope")),
        ("bad_headers", envelope(q, call({"text": "when?"}), headers={"eta": "tomorrow"})),
        ("bad_headers", envelope(q, call({"text": "limits"}), headers={"timelimit": "x"})),
        ("bad_arguments", envelope(q, [[], {}, {}])),
        ("bad_arguments", envelope(q, call({"id": extra_id, "text": "two args"}, "extra"))),
        ("bad_arguments", envelope(q, call({"text": "kw"}, kwargs={"force": True}))),
        ("unencodable_article", envelope(q, raw_body=base64.b64encode(
            f'[[{{"id": "{surrogate_id}", "text": "abc \\ud800 def"}}], {{}}, {{}}]'.encode()
        ).decode())),
        ("bad_body", envelope(q, raw_body=base64.b64encode(deep_body.encode()).decode())),
    ]
    r = redis.Redis.from_url(hostile.redis_url, decode_responses=True)
    for _, raw in messages:
        r.lpush(q, raw)
    worker = hostile.workers["w1@" + hostile.prefix]
    pid_before = r.hget(f"{hostile.prefix}:worker:w1@{hostile.prefix}", "pid")

    client = hostile.client()
    valid = client.submit({"id": uid("valid"), "text": "Queued behind the malformed ones."})
    status = client.wait(valid.id, timeout=90)

    assert status is not None and status.status == "done", hostile.log("w1@" + hostile.prefix)
    assert worker.poll() is None
    assert r.hget(f"{hostile.prefix}:worker:w1@{hostile.prefix}", "pid") == pid_before \
        == str(worker.pid)
    store = client.store
    kept = store.rejected(limit=100)
    assert sorted(e["code"] for e in kept) == sorted(code for code, _ in messages)
    assert store.rejected_counts() == {
        code: sum(1 for c, _ in messages if c == code) for code, _ in messages}
    assert {"this is not json {", "[1, 2, 3]"} <= {e.get("raw") for e in kept}
    assert base64.b64decode(next(e["raw_base64"] for e in kept if "raw_base64" in e)) \
        == b"\xff\xfe\x00garbage"


def test_a_rejected_message_is_recorded_under_its_article_id(hostile: Cluster) -> None:
    client = hostile.client()
    by_id = {e["id"]: e for e in client.store.rejected(limit=100) if e["id"]}
    assert {e["code"] for e in by_id.values()} == {"unencodable_article", "bad_body",
                                                   "bad_arguments"}
    for article_id, entry in by_id.items():
        status = client.status(article_id)
        assert status is not None and status.status == "failed"
        assert status.error == f"message rejected ({entry['code']}): {entry['reason']}"
    surrogate = next(e for e in by_id.values() if e["code"] == "unencodable_article")
    assert "lone surrogate" in surrogate["reason"]
    deep = next(e for e in by_id.values() if e["code"] == "bad_body")
    assert "nested too deeply" in deep["reason"]


def test_a_rejection_is_an_event_on_the_stream(hostile: Cluster) -> None:
    client = hostile.client()
    rejected_ids = {e["id"] for e in client.store.rejected(limit=100) if e["id"]}
    events = [e for e in client.events(since="0", idle_timeout=0.5)
              if e.get("rejected") == "1"]
    assert {e["id"] for e in events} == rejected_ids
    assert all(e["status"] == "failed" for e in events)


def test_a_rejected_message_does_not_fail_an_article_that_is_done(hostile: Cluster) -> None:
    client = hostile.client()
    article = {"id": uid("done"), "text": "Finished before the bad copy arrived."}
    client.submit(article)
    assert client.wait(article["id"], timeout=60).status == "done"  # type: ignore[union-attr]
    r = redis.Redis.from_url(hostile.redis_url)
    r.lpush(hostile.queue, envelope(hostile.queue, call(article, "extra")))
    after = client.submit({"id": uid("after"), "text": "Behind the bad copy."})
    assert client.wait(after.id, timeout=60).status == "done"  # type: ignore[union-attr]
    assert client.status(article["id"]).status == "done"  # type: ignore[union-attr]


# -- the doors before the queue: submit_many and copydesk submit ---------------------------

DEEP_METADATA = '{"text": "ok", "metadata": ' + '{"a": ' * 100_000 + "1" + "}" * 100_000 + "}"


def test_submit_many_refuses_only_the_unencodable_article(hostile: Cluster) -> None:
    client = hostile.client()
    ok1, ok2 = ({"id": uid("ok"), "text": f"Fine article {i}."} for i in range(2))
    results = client.submit_many([ok1, DEEP_METADATA, '{"text": "x \\ud800"}', ok2])
    assert [r.outcome for r in results] == ["queued", "invalid", "invalid", "queued"]
    assert "nested too deeply" in (results[1].error or "")
    assert "lone surrogate" in (results[2].error or "")
    final = client.wait([ok1["id"], ok2["id"]], timeout=60)
    assert [s.status for s in final.values() if s] == ["done", "done"]


def test_cli_submit_refuses_the_unencodable_files_and_queues_the_rest(
        hostile: Cluster, tmp_path: Path) -> None:
    bad, deep, good = tmp_path / "a.json", tmp_path / "deep.json", tmp_path / "ok.json"
    bad.write_text('{"text": "abc \\ud800 def"}')
    deep.write_text(DEEP_METADATA)
    good_id = uid("cli-ok")
    good.write_text(json.dumps({"id": good_id, "text": "Ministers met in Istanbul."}))
    done = hostile.cli("submit", str(bad), str(deep), str(good), "--wait", "--timeout", "60")
    assert done.returncode == 1
    assert done.stdout.split() == [good_id]
    assert f"{bad}: text: holds a lone surrogate" in " ".join(done.stderr.split())
    assert f"{deep}: nested too deeply to parse" in " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr
    assert hostile.client().status(good_id).status == "done"  # type: ignore[union-attr]


def test_big_rejected_messages_are_kept_bounded_in_bytes(make_cluster) -> None:  # type: ignore[no-untyped-def]
    cluster: Cluster = make_cluster()
    cluster.start_worker("big", concurrency=1)
    r = redis.Redis.from_url(cluster.redis_url)
    for i in range(3):  # three messages of 20 MB that are not JSON
        r.lpush(cluster.queue, b"{" * 20_000_000 + str(i).encode())
    client = cluster.client()
    valid = client.submit({"id": uid("after-big"), "text": "Queued behind three big ones."})
    status = client.wait(valid.id, timeout=180)
    assert status is not None and status.status == "done", cluster.log("big@" + cluster.prefix)
    big = [e for e in client.store.rejected(limit=10) if e["size"] > 1_000_000]
    assert [(e["code"], e["size"], e["truncated"]) for e in big] == [
        ("not_json", 20_000_001, True)] * 3
    assert r.memory_usage(f"{cluster.prefix}:rejected") < 200_000  # not 60 MB
