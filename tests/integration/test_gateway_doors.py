"""The gateway against hostile clients: raw bodies no schema describes, hundreds of open
event streams, a trickled body, framing and sniffing, and its API description behind the
token. A real ``copydesk serve``, a real Redis and a real worker."""

from __future__ import annotations

import asyncio
import contextlib
import select
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.integration.conftest import Cluster
from tests.integration.gateway_fixtures import TOKENS, Gateway, start_gateway
from tests.integration.schemathesis_hooks import HOSTILE_BODIES

pytestmark = pytest.mark.integration

STREAMS = 300


def uid(stem: str) -> str:
    return f"{stem}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def gateway(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    # 300 event streams open at once are each a connection without a request for a moment:
    # the idle-connection bound must be above the burst (docs/http.md)
    gw = start_gateway(cluster, tmp_path_factory.mktemp("gateway-doors"),
                       COPYDESK_GATEWAY__BODY_TIMEOUT="1.5",
                       COPYDESK_GATEWAY__MAX_IDLE_CONNECTIONS="400")
    yield gw
    gw.stop()


def post(gateway: Gateway, body: bytes, content_type: str) -> httpx.Response:
    return httpx.post(gateway.url + "/v1/articles", content=body, timeout=30,
                      headers=gateway.headers(**{"Content-Type": content_type}))


# -- raw bodies ---------------------------------------------------------------------------

EXPECTED = {  # the stable code each of the hook's hostile bodies gets
    0: (422, "invalid_article"),   # lone surrogate in the text
    1: (400, "nested_too_deep"),   # metadata 100,000 deep
    2: (400, "nested_too_deep"),   # an array 100,000 deep
    3: (422, "invalid_article"),   # metadata 80 deep: parses, over the limit of 64
    4: (400, "invalid_json"),      # NaN
    5: (400, "invalid_encoding"),  # not UTF-8
    6: (422, "invalid_article"),   # a lone surrogate as a field name
    7: (422, "invalid_article"),   # JSON Lines: a lone surrogate in line 2's title
    8: (400, "nested_too_deep"),   # JSON Lines: line 2 100,000 deep
    9: (400, "invalid_encoding"),  # text/plain: a surrogate encoded as bytes (CESU-8)
}


@pytest.mark.parametrize("index", sorted(EXPECTED))
def test_a_hostile_raw_body_gets_a_4xx_json_error_with_a_stable_code(
        gateway: Gateway, index: int) -> None:
    content_type, body = HOSTILE_BODIES[index]
    response = post(gateway, body, content_type)
    assert (response.status_code, response.json()["error"]["code"]) == EXPECTED[index]
    assert response.headers["content-type"] == "application/json"
    response.content.decode("utf-8")  # the reply itself is valid UTF-8


def test_a_hostile_article_in_a_batch_refuses_the_batch_and_names_it(gateway: Gateway) -> None:
    body = b'[{"text": "fine"}, {"text": "bad \\ud800"}]'
    response = post(gateway, body, "application/json")
    assert response.status_code == 422
    assert [d["path"] for d in response.json()["error"]["details"]] == ["$[1].text"]


def test_the_gateway_still_answers_after_the_hostile_bodies(gateway: Gateway) -> None:
    for content_type, body in HOSTILE_BODIES:
        post(gateway, body, content_type)
    response = post(gateway, b'{"text": "Still open for business."}', "application/json")
    assert response.status_code == 202


# -- event streams do not take connections from submissions --------------------------------


async def _open_stream(client: httpx.AsyncClient, ready: asyncio.Queue[Any],
                       stop: asyncio.Event) -> None:
    async with client.stream("GET", "/v1/events") as response:
        assert response.status_code == 200, (await response.aread())[:300]
        lines = response.aiter_lines()
        assert (await anext(lines)).startswith("retry:")
        await ready.put(response)
        await stop.wait()


async def _streams_and_submissions(gateway: Gateway) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=STREAMS + 50, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=gateway.url, headers=gateway.headers(),
                                 limits=limits, timeout=60) as streams, \
            httpx.AsyncClient(base_url=gateway.url, headers=gateway.headers(),
                              timeout=30) as api:
        ready: asyncio.Queue[Any] = asyncio.Queue()
        stop = asyncio.Event()
        tasks = [asyncio.create_task(_open_stream(streams, ready, stop))
                 for _ in range(STREAMS)]
        for _ in range(STREAMS):
            await asyncio.wait_for(ready.get(), timeout=60)
        await asyncio.sleep(1.0)  # every stream is subscribed to the shared reader by now
        started = time.monotonic()
        ids = [uid("busy") for _ in range(10)]
        submitted = [await api.post("/v1/articles", json={"id": i, "text": "Ten busy words "
                                                          "about talks in Istanbul today."})
                     for i in ids]
        waited = [await api.get(f"/v1/articles/{i}", params={"wait": 30}) for i in ids]
        metrics = await api.get("/metrics")
        took = time.monotonic() - started
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=30)
        return {"submitted": submitted, "waited": waited, "metrics": metrics, "took": took}


def test_300_open_event_streams_leave_submissions_and_waits_answered(gateway: Gateway) -> None:
    result = asyncio.run(asyncio.wait_for(_streams_and_submissions(gateway), timeout=240))
    assert [r.status_code for r in result["submitted"]] == [202] * 10
    assert [r.json()["status"] for r in result["waited"]] == ["done"] * 10
    assert result["metrics"].status_code == 200
    print(f"\n{STREAMS} open streams: 10 submissions + 10 waits + /metrics in "
          f"{result['took']:.2f}s")


def test_a_stream_beyond_the_limit_is_refused_with_503_and_the_others_keep_working(
        cluster: Cluster, tmp_path: Path) -> None:
    gw = start_gateway(cluster, tmp_path, COPYDESK_GATEWAY__MAX_EVENT_STREAMS="2")
    try:
        with httpx.Client(base_url=gw.url, headers=gw.headers(), timeout=30) as http, \
                http.stream("GET", "/v1/events") as first, \
                http.stream("GET", "/v1/events") as second:
            lines = [first.iter_lines(), second.iter_lines()]  # kept: dropping one closes it
            assert all(next(stream).startswith("retry:") for stream in lines)
            time.sleep(0.5)
            third = httpx.get(gw.url + "/v1/events", headers=gw.headers(), timeout=30)
            assert third.status_code == 503
            assert third.json()["error"]["code"] == "too_many_streams"
            assert third.headers["retry-after"] == "5"
            article_id = uid("limited")
            assert http.post("/v1/articles", json={"id": article_id,
                                                   "text": "Still submitted."}).status_code == 202
            seen = next(line for line in lines[0] if article_id in line)
            assert '"status": "queued"' in seen
    finally:
        gw.stop()


# -- a trickled body ----------------------------------------------------------------------


def test_a_body_trickled_slower_than_the_body_timeout_gets_408(gateway: Gateway) -> None:
    parts = urlsplit(gateway.url)
    body = b'{"text": "' + b"x" * 200 + b'"}'  # one byte every 0.3 s: a minute in all
    started = time.monotonic()
    reply = b""
    with socket.create_connection((parts.hostname, parts.port), timeout=20) as sock:
        sock.sendall(b"POST /v1/articles HTTP/1.1\r\nHost: x\r\n"
                     + f"Authorization: Bearer {TOKENS[0]}\r\n".encode()
                     + b"Content-Type: application/json\r\n"
                     + f"Content-Length: {len(body)}\r\n\r\n".encode())
        sent = 0
        while time.monotonic() - started < 12 and b'"body_timeout"' not in reply:
            if sent < len(body):
                with contextlib.suppress(OSError):
                    sock.sendall(body[sent:sent + 1])
                    sent += 1
            if select.select([sock], [], [], 0.3)[0]:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                reply += chunk
    assert reply.startswith(b"HTTP/1.1 408"), reply[:300]
    assert b'"body_timeout"' in reply
    assert sent < len(body)  # answered before the body was complete
    assert time.monotonic() - started < 12


def test_a_body_sent_in_time_is_accepted_in_the_same_gateway(gateway: Gateway) -> None:
    assert post(gateway, b'{"text": "Sent at once."}', "application/json").status_code == 202


# -- headers --------------------------------------------------------------------------------


@pytest.mark.parametrize("path,accept", [
    ("/v1/articles/no-such-id", "application/json"),   # a JSON error
    ("/readyz", "application/json"),                   # JSON
    ("/", "text/html"),                                # the index page (has its own CSP)
    ("/metrics", "text/plain"),
])
def test_every_response_forbids_framing_and_sniffing(gateway: Gateway, path: str,
                                                     accept: str) -> None:
    response = httpx.get(gateway.url + path, headers=gateway.headers(Accept=accept),
                         timeout=30)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_the_index_page_keeps_its_own_policy_and_adds_frame_ancestors(
        gateway: Gateway) -> None:
    policy = httpx.get(gateway.url + "/", timeout=30).headers["content-security-policy"]
    assert "default-src 'none'" in policy and policy.endswith("frame-ancestors 'none'")


# -- the API description needs the token -----------------------------------------------------


@pytest.mark.parametrize("path", ["/openapi.json", "/docs"])
def test_the_api_description_needs_the_token(gateway: Gateway, path: str) -> None:
    refused = httpx.get(gateway.url + path, timeout=30)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
    allowed = httpx.get(gateway.url + path, headers=gateway.headers(), timeout=30)
    assert allowed.status_code == 200


def test_the_openapi_document_is_served_with_the_token(gateway: Gateway) -> None:
    doc = httpx.get(gateway.url + "/openapi.json", headers=gateway.headers(), timeout=30).json()
    assert "/v1/articles" in doc["paths"] and "/openapi.json" not in doc["paths"]


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_the_probes_need_no_token(gateway: Gateway, path: str) -> None:
    assert httpx.get(gateway.url + path, timeout=30).status_code in (200, 503)
    assert httpx.get(gateway.url + path, timeout=30).status_code != 401
