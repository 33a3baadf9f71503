"""The gateway's article JSON names the stages that failed in a done Document (a real
``copydesk serve`` and worker; the probe plugin's ``fragile`` stage raises on purpose)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.integration.conftest import Cluster
from tests.integration.gateway_fixtures import start_gateway

pytestmark = pytest.mark.integration


def test_the_article_json_carries_the_failed_stages_of_a_done_document(
        cluster: Cluster, tmp_path: Path) -> None:
    gateway = start_gateway(cluster, tmp_path)
    try:
        with gateway.client() as http:
            broken, fine = f"gw-broken-{uuid.uuid4().hex[:8]}", f"gw-fine-{uuid.uuid4().hex[:8]}"
            posted = http.post("/v1/articles", json=[
                {"id": broken, "text": "This one will BREAK-THE-STAGE, sadly."},
                {"id": fine, "text": "Ministers met in Istanbul on Monday."}])
            assert posted.status_code == 202, posted.text
            states = {i: http.get(f"/v1/articles/{i}", params={"wait": 60}).json()
                      for i in (broken, fine)}
    finally:
        gateway.stop()
    assert (states[broken]["status"], states[broken]["failed_stages"]) == ("done", ["fragile"])
    assert (states[fine]["status"], states[fine]["failed_stages"]) == ("done", [])
