"""The HTTP gateway end to end: a real ``copydesk serve``, a real Redis and a real worker."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from copydesk.document import Article, Document
from copydesk.settings import Settings

from tests.integration.conftest import COPYDESK, Cluster, free_port
from tests.integration.gateway_fixtures import TOKENS, Gateway, start_gateway

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "tests" / "data" / "istanbul-peace-talks.txt"
NODE_EXAMPLE = ROOT / "examples" / "http_client.mjs"


def uid(stem: str) -> str:
    return f"{stem}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def gateway(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """A gateway with two tokens and small limits, in front of the module's cluster."""
    gw = start_gateway(cluster, tmp_path_factory.mktemp("gateway"),
                       COPYDESK_GATEWAY__MAX_BATCH="20",
                       COPYDESK_GATEWAY__MAX_BODY_BYTES="200000",
                       COPYDESK_MAX_ARTICLE_CHARS="50000")
    yield gw
    gw.stop()


@pytest.fixture(scope="module")
def http(gateway: Gateway) -> Iterator[httpx.Client]:
    with gateway.client() as client:
        yield client


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}
    return dict(body["error"])


# -- submit, wait, read -----------------------------------------------------------------------


def test_submitting_the_sample_answers_202_with_its_location(http: httpx.Client) -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    response = http.post("/v1/articles", json={"text": text, "id": uid("sample")})
    assert response.status_code == 202
    (item,) = response.json()["articles"]
    assert item["outcome"] == "queued" and item["status"] == "queued"
    assert response.headers["location"] == item["location"] == f"/v1/articles/{item['id']}"


def test_wait_returns_the_finished_document(http: httpx.Client) -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    article_id = uid("wait")
    http.post("/v1/articles", json={"id": article_id, "text": text, "title": "Talks"})
    state = http.get(f"/v1/articles/{article_id}", params={"wait": 60}).json()
    assert state["status"] == "done"
    doc = Document.model_validate(state["document"])
    assert doc.id == article_id and doc.title == "Talks"
    assert doc.extensions["probe"]["words"] == len(text.split())
    assert state["view"] == f"/v1/articles/{article_id}/view"


def test_a_plain_text_body_is_one_article_with_a_content_id(http: httpx.Client) -> None:
    text = f"Delegates met in Istanbul on Monday ({uuid.uuid4().hex})."
    response = http.post("/v1/articles", content=text.encode(),
                         headers={"Content-Type": "text/plain; charset=utf-8"})
    assert response.status_code == 202
    assert response.json()["articles"][0]["id"] == Article(text=text).id


def test_a_json_array_and_json_lines_are_batches_answered_in_order(http: httpx.Client) -> None:
    ids = [uid("batch") for _ in range(3)]
    array = http.post("/v1/articles", json=[{"id": i, "text": f"Article {i}."} for i in ids])
    assert array.status_code == 202
    assert [a["id"] for a in array.json()["articles"]] == ids
    lines_ids = [uid("jsonl") for _ in range(2)]
    body = "".join(json.dumps({"id": i, "text": "Kyiv said."}) + "\n" for i in lines_ids)
    lines = http.post("/v1/articles", content=body.encode(),
                      headers={"Content-Type": "application/x-ndjson"})
    assert lines.status_code == 202
    assert [a["id"] for a in lines.json()["articles"]] == lines_ids


def test_submitting_an_id_again_queues_nothing(http: httpx.Client) -> None:
    article = {"id": uid("twice"), "text": "Moscow said nothing."}
    http.post("/v1/articles", json=article)
    http.get(f"/v1/articles/{article['id']}", params={"wait": 60})
    again = http.post("/v1/articles", json=article).json()["articles"][0]
    assert (again["outcome"], again["status"]) == ("duplicate", "done")
    forced = http.post("/v1/articles", json=article, params={"force": "true"})
    assert forced.json()["articles"][0]["outcome"] == "queued"


def test_an_unknown_id_is_404_with_a_json_error(http: httpx.Client) -> None:
    response = http.get(f"/v1/articles/{uid('never')}")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


# -- refusals ---------------------------------------------------------------------------------


def test_a_batch_with_one_invalid_article_is_refused_whole(http: httpx.Client) -> None:
    good = uid("good")
    response = http.post("/v1/articles", json=[
        {"id": good, "text": "Ukraine's team will be led by Rustem Umerov."},
        {"text": "Observers attended.", "published_at": "last Tuesday"},
    ])
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid_article"
    assert [d["path"] for d in error["details"]] == ["$[1].published_at"]
    assert http.get(f"/v1/articles/{good}").status_code == 404


def test_an_article_without_text_names_the_problem(http: httpx.Client) -> None:
    response = http.post("/v1/articles", json={"title": "No body"})
    assert response.status_code == 422
    assert "exactly one of 'text' or 'html'" in error_of(response)["details"][0]["message"]


def test_a_body_over_the_limit_is_413(http: httpx.Client) -> None:
    response = http.post("/v1/articles", content=b"x" * 300_000,
                         headers={"Content-Type": "text/plain"})
    assert response.status_code == 413
    assert error_of(response)["code"] == "body_too_large"


def test_an_article_over_the_size_limit_is_413_and_names_it(http: httpx.Client) -> None:
    response = http.post("/v1/articles", json=[{"text": "short"}, {"text": "word " * 12_000}])
    assert response.status_code == 413
    error = error_of(response)
    assert error["code"] == "article_too_large"
    assert [d["path"] for d in error["details"]] == ["$[1]"]


def test_a_batch_over_the_limit_is_413(http: httpx.Client) -> None:
    response = http.post("/v1/articles", json=[{"text": f"n{i}"} for i in range(21)])
    assert response.status_code == 413
    assert error_of(response)["code"] == "batch_too_large"


def test_malformed_json_and_unknown_media_types_are_refused(http: httpx.Client) -> None:
    broken = http.post("/v1/articles", content=b'{"text": ',
                       headers={"Content-Type": "application/json"})
    assert (broken.status_code, error_of(broken)["code"]) == (400, "invalid_json")
    xml = http.post("/v1/articles", content=b"<article/>",
                    headers={"Content-Type": "application/xml"})
    assert (xml.status_code, error_of(xml)["code"]) == (415, "unsupported_media_type")


def test_redis_unavailable_is_503_and_not_ready() -> None:
    from copydesk.workers.gateway.app import create_app

    dead = f"redis://127.0.0.1:{free_port()}/0"
    app = create_app(Settings(redis_url=dead))
    transport = httpx.ASGITransport(app=app)

    async def calls() -> tuple[httpx.Response, httpx.Response, httpx.Response]:
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            return (await client.post("/v1/articles", json={"text": "Kyiv said."}),
                    await client.get("/v1/articles/some-id"),
                    await client.get("/readyz"))

    import asyncio

    post, get, ready = asyncio.run(calls())
    assert (post.status_code, error_of(post)["code"]) == (503, "redis_unavailable")
    assert (get.status_code, error_of(get)["code"]) == (503, "redis_unavailable")
    assert ready.status_code == 503 and ready.json()["ready"] is False


# -- auth -------------------------------------------------------------------------------------


def test_a_missing_or_wrong_token_is_refused(gateway: Gateway) -> None:
    missing = httpx.get(gateway.url + "/v1/articles/anything")
    wrong = httpx.get(gateway.url + "/v1/articles/anything",
                      headers={"Authorization": "Bearer not-a-token"})
    for response in (missing, wrong):
        assert response.status_code == 401
        assert error_of(response)["code"] == "unauthorized"
        assert response.headers["www-authenticate"] == "Bearer"


def test_every_configured_token_is_accepted_so_keys_can_rotate(gateway: Gateway) -> None:
    for token in TOKENS:
        response = httpx.get(gateway.url + f"/v1/articles/{uid('rotate')}",
                             headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 404


def test_health_needs_no_token_and_readiness_sees_the_worker(gateway: Gateway) -> None:
    assert httpx.get(gateway.url + "/healthz").json() == {"status": "ok"}
    ready = httpx.get(gateway.url + "/readyz")
    assert ready.status_code == 200
    assert ready.json()["redis"] == "ok" and ready.json()["workers_alive"] >= 1


def test_without_tokens_the_gateway_binds_to_loopback_and_says_so(
    cluster: Cluster, tmp_path: Path
) -> None:
    gw = start_gateway(cluster, tmp_path, tokens=())
    try:
        assert httpx.get(gw.url + f"/v1/articles/{uid('open')}").status_code == 404
    finally:
        gw.stop()
    log = gw.log.read_text()
    assert "loopback" in log
    assert re.search(r"http://127\.0\.0\.1:\d+", log)


# -- events ------------------------------------------------------------------------------------


def read_events(response: httpx.Response, until: Any) -> list[dict[str, Any]]:
    """Parse SSE messages from a streaming response until ``until(events)`` is true."""
    events: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    for line in response.iter_lines():
        if line.startswith("id: "):
            current["event_id"] = line[4:]
        elif line.startswith("event: "):
            current["event"] = line[7:]
        elif line.startswith("data: "):
            current["data"] = json.loads(line[6:])
        elif line == "" and "data" in current:
            events.append(current)
            current = {}
            if until(events):
                break
    return events


def stream_key(event_id: str) -> tuple[int, int]:
    ms, _, seq = event_id.partition("-")
    return int(ms), int(seq or 0)


def test_events_arrive_in_order_and_resume_after_last_event_id(
    gateway: Gateway, http: httpx.Client
) -> None:
    ids = [uid("sse"), uid("sse")]

    def all_done(events: list[dict[str, Any]]) -> bool:
        done = {e["data"]["id"] for e in events if e["data"]["status"] == "done"}
        return done >= set(ids)

    started = threading.Event()
    with httpx.stream("GET", gateway.url + "/v1/events", headers=gateway.headers(),
                      params={"id": ids, "timeout": 60}, timeout=90) as response:
        assert response.headers["content-type"].startswith("text/event-stream")

        def submit() -> None:
            started.wait(10)
            http.post("/v1/articles", json=[{"id": i, "text": f"Talks {i}."} for i in ids])

        thread = threading.Thread(target=submit)
        thread.start()
        started.set()
        events = read_events(response, all_done)
        thread.join()
    for article_id in ids:
        statuses = [e["data"]["status"] for e in events if e["data"]["id"] == article_id]
        assert statuses == ["queued", "running", "done"]
    keys = [stream_key(e["event_id"]) for e in events]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert all(e["event"] == "status" for e in events)

    resume_after = events[0]["event_id"]
    with httpx.stream("GET", gateway.url + "/v1/events",
                      headers=gateway.headers(**{"Last-Event-ID": resume_after}),
                      params={"id": ids, "timeout": 1}, timeout=30) as response:
        resumed = read_events(response, lambda evs: len(evs) >= len(events) - 1)
    assert [e["event_id"] for e in resumed] == [e["event_id"] for e in events[1:]]


def test_a_malformed_last_event_id_is_422(gateway: Gateway) -> None:
    response = httpx.get(gateway.url + "/v1/events",
                         headers=gateway.headers(**{"Last-Event-ID": "yesterday"}))
    assert response.status_code == 422
    assert error_of(response)["details"][0]["path"] == "Last-Event-ID"


# -- metrics, views, OpenAPI ------------------------------------------------------------------------


def test_metrics_count_articles_and_histogram_each_stage(http: httpx.Client) -> None:
    article_id = uid("metrics")
    http.post("/v1/articles", json={"id": article_id, "text": "Kyiv and Moscow met."})
    http.get(f"/v1/articles/{article_id}", params={"wait": 60})
    response = http.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = dict(line.rsplit(" ", 1) for line in response.text.splitlines()
                   if line and not line.startswith("#"))
    assert int(samples["copydesk_articles_done_total"]) >= 1
    assert int(samples["copydesk_articles_submitted_total"]) >= 1
    assert int(samples['copydesk_stage_duration_seconds_count{stage="probe"}']) >= 1
    assert samples['copydesk_stage_duration_seconds_bucket{stage="probe",le="+Inf"}'] == \
        samples['copydesk_stage_duration_seconds_count{stage="probe"}']
    assert any(k.startswith("copydesk_queue_depth{") for k in samples)
    assert int(samples["copydesk_workers_alive"]) >= 1


def test_a_browser_gets_the_annotated_view(http: httpx.Client) -> None:
    article_id = uid("view")
    http.post("/v1/articles", json={"id": article_id, "text": "Zelenskyy spoke in Kyiv."})
    page = http.get(f"/v1/articles/{article_id}", params={"wait": 60},
                    headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert f'data-document-id="{article_id}"' in page.text
    assert http.get(f"/v1/articles/{article_id}/view").text == page.text
    missing = http.get(f"/v1/articles/{uid('nope')}/view")
    assert missing.status_code == 404 and "No article with this id" in missing.text


def test_the_index_page_lists_recent_articles(http: httpx.Client) -> None:
    article_id = uid("recent")
    http.post("/v1/articles", json={"id": article_id, "text": "Ankara said."})
    page = http.get("/")
    assert page.status_code == 200
    assert article_id in page.text and 'action="/ui/submit"' in page.text


def test_serve_openapi_prints_the_document_from_the_contract_models(cluster: Cluster) -> None:
    done = cluster.cli("serve", "--openapi")
    assert done.returncode == 0, done.stderr
    spec = json.loads(done.stdout)
    schemas = spec["components"]["schemas"]
    assert set(schemas["Document"]["properties"]) == set(Document.model_fields)
    assert set(schemas["Article"]["properties"]) == set(Article.model_fields)
    assert {"/v1/articles", "/v1/articles/{article_id}", "/v1/events", "/healthz", "/readyz",
            "/metrics"} <= set(spec["paths"])
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


# -- another language, and the fuzzer ------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_node_example_submits_and_reads_the_document(gateway: Gateway) -> None:
    done = subprocess.run(
        ["node", str(NODE_EXAMPLE), str(SAMPLE), "Istanbul talks"],
        env={"PATH": "/usr/bin:/bin:/usr/local/bin", "COPYDESK_URL": gateway.url,
             "COPYDESK_TOKEN": TOKENS[1]},
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    text = SAMPLE.read_text(encoding="utf-8")
    assert out["id"] == Article(text=text, title="Istanbul talks").id
    assert out["status"] == "done"
    assert out["stages"] == ["probe:ok", "fragile:ok"]


#: No 5xx, and every response is one the OpenAPI document declares (status, type, schema).
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_schema_conformance,response_headers_conformance")


@pytest.mark.slow
def test_fuzzing_the_api_from_its_openapi_document_finds_no_server_error_or_undeclared_answer(
    cluster: Cluster, tmp_path: Path
) -> None:
    gw = start_gateway(cluster, tmp_path, COPYDESK_GATEWAY__MAX_WAIT="1",
                       COPYDESK_GATEWAY__MAX_BATCH="5")
    try:
        done = subprocess.run(
            [str(Path(sys.executable).with_name("schemathesis")), "run",
             gw.url + "/openapi.json", "--checks", CHECKS,
             "--max-examples", "40", "--seed", "20261125", "--workers", "1",
             "--exclude-path", "/v1/events", "--request-timeout", "20",
             "-H", f"Authorization: Bearer {TOKENS[0]}", "--no-color"],
            capture_output=True, text=True, timeout=900, cwd=tmp_path,
            env={**cluster.env(), "SCHEMATHESIS_HOOKS": "tests.integration.schemathesis_hooks",
                 "PYTHONPATH": str(ROOT)})
    finally:
        gw.stop()
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "No issues found" in done.stdout or " passed" in done.stdout, done.stdout[-3000:]


def test_the_gateway_cli_is_registered_by_the_queue_plugin() -> None:
    done = subprocess.run([COPYDESK, "serve", "--help"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and "--openapi" in done.stdout
