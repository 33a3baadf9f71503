"""A gateway told to stop (SIGTERM) with an event stream open: the stream gets a last
``shutdown`` event and ends, and the process exits within ``gateway.shutdown_grace``
(a real ``copydesk serve``)."""

from __future__ import annotations

import signal
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
