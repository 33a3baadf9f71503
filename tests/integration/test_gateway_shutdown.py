"""A gateway told to stop (SIGTERM) with an event stream open: the stream gets a last
``shutdown`` event and ends, and the process exits within ``gateway.shutdown_grace``
(a real ``copydesk serve``); a request still waiting when the grace is over is cut off."""

from __future__ import annotations

import signal
import socket
import uuid
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import Cluster
from tests.integration.gateway_fixtures import start_gateway

pytestmark = pytest.mark.integration

GRACE = 10


def test_sigterm_ends_an_open_event_stream_with_a_last_event_and_exits_within_the_grace(
        cluster: Cluster, tmp_path: Path) -> None:
    gateway = start_gateway(cluster, tmp_path, COPYDESK_GATEWAY__SHUTDOWN_GRACE=str(GRACE))
    try:
        with httpx.Client(base_url=gateway.url, headers=gateway.headers(),
                          timeout=httpx.Timeout(5, read=60)) as http, \
                http.stream("GET", "/v1/events") as stream:
            lines = stream.iter_lines()
            assert next(lines).startswith("retry:")  # the stream is open and read
            gateway.proc.send_signal(signal.SIGTERM)
            rest = list(lines)  # until the gateway ends it
        assert "event: shutdown" in rest
        # uvicorn ends by re-raising the signal it shut down on: a clean SIGTERM exit
        assert gateway.proc.wait(timeout=GRACE) in (0, -signal.SIGTERM)
        assert "Application shutdown complete" in gateway.log.read_text(errors="replace")
    finally:
        gateway.stop()


def test_a_request_still_waiting_after_the_grace_is_cut_off_and_the_gateway_exits(
        cluster: Cluster, tmp_path: Path) -> None:
    grace = 3
    unconsumed = f"nobody-{uuid.uuid4().hex[:8]}"  # no worker takes what is queued here
    gateway = start_gateway(cluster, tmp_path, COPYDESK_GATEWAY__SHUTDOWN_GRACE=str(grace),
                            COPYDESK_WORKER__QUEUE=unconsumed)
    try:
        with gateway.client() as client:
            queued = client.post("/v1/articles", json={
                "id": f"stays-queued-{uuid.uuid4().hex[:8]}", "text": "Nobody runs this."})
            assert queued.status_code == 202, queued.text
            location = queued.json()["articles"][0]["location"]
        port = int(gateway.url.rsplit(":", 1)[1])
        sock = socket.create_connection(("127.0.0.1", port), timeout=90)
        sock.sendall(f"GET {location}?wait=60 HTTP/1.1\r\nHost: localhost\r\nAuthorization: "
                     f"Bearer {gateway.token}\r\n\r\n".encode())
        assert httpx.get(gateway.url + "/healthz", timeout=10).status_code == 200  # it waits
        gateway.proc.send_signal(signal.SIGTERM)
        code = gateway.proc.wait(timeout=grace + 20)  # well before the request's 60 s
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    finally:
        gateway.stop()
    assert code in (0, -signal.SIGTERM)
    assert not answer.startswith(b"HTTP/1.1 200")
    assert "timeout graceful shutdown exceeded" in gateway.log.read_text(errors="replace")
