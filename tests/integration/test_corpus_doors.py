"""The shared BBC corpus as it is (``id, title, text, source, category``), through the queue's
doors: ``copydesk submit`` and the HTTP gateway, with a real Redis and a real worker."""

from __future__ import annotations

import itertools
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import shared_path
from tests.integration.conftest import COPYDESK, Cluster
from tests.integration.gateway_fixtures import Gateway, start_gateway

pytestmark = pytest.mark.integration


def corpus_lines(start: int, count: int) -> list[str]:
    corpus = shared_path("corpus", "bbc-news-2005.jsonl")
    with corpus.open(encoding="utf-8") as lines:
        return list(itertools.islice(lines, start, start + count))


@pytest.fixture(scope="module")
def gateway(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gw = start_gateway(cluster, tmp_path_factory.mktemp("gateway"))
    yield gw
    gw.stop()


def test_cli_submit_queues_corpus_lines_and_keeps_their_category(cluster: Cluster,
                                                                  tmp_path: Path) -> None:
    lines = corpus_lines(0, 20)
    path = tmp_path / "corpus-part.jsonl"
    path.write_text("".join(lines), encoding="utf-8")
    submitted = cluster.cli("submit", str(path), "--wait", "--timeout", "90", timeout=120)
    assert submitted.returncode == 0, submitted.stderr
    assert submitted.stderr.count("category (20 articles)") == 1
    ids = submitted.stdout.split()
    assert ids == [json.loads(line)["id"] for line in lines]
    result = cluster.cli("result", ids[-1])
    doc = json.loads(result.stdout)
    assert doc["status"] == "done"
    assert doc["metadata"] == {"category": json.loads(lines[-1])["category"]}


def test_cli_submit_with_strict_articles_refuses_corpus_lines(cluster: Cluster,
                                                               tmp_path: Path) -> None:
    path = tmp_path / "one.jsonl"
    path.write_text(corpus_lines(20, 1)[0], encoding="utf-8")
    refused = subprocess.run([COPYDESK, "submit", str(path)],
                             env=cluster.env(COPYDESK_STRICT_ARTICLES="true"),
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1
    assert "category: Extra inputs are not permitted" in refused.stderr


def test_gateway_takes_corpus_json_lines_and_says_what_it_moved(gateway: Gateway) -> None:
    lines = corpus_lines(30, 5)
    with gateway.client() as http:
        response = http.post("/v1/articles", content="".join(lines).encode(),
                             headers={"Content-Type": "application/x-ndjson"})
        assert response.status_code == 202, response.text
        items = response.json()["articles"]
        assert [i["moved_to_metadata"] for i in items] == [["category"]] * 5
        last = json.loads(lines[-1])
        state = http.get(f"/v1/articles/{last['id']}", params={"wait": 60}).json()
    assert state["status"] == "done"
    assert state["document"]["metadata"] == {"category": last["category"]}
    assert state["document"]["title"] == last["title"]
