"""An optional stage that raises leaves its article ``done`` with the stage's run failed:
``copydesk submit --wait`` says how many finished with failed stages and which, and
``copydesk status`` shows them (a real worker running the probe plugin's ``fragile``)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.integration.conftest import Cluster

pytestmark = pytest.mark.integration


def articles(tmp_path: Path) -> tuple[list[Path], str]:
    """Two articles the pipeline runs whole and one that breaks the fragile stage; the id of
    that one."""
    tag = uuid.uuid4().hex[:8]
    broken = f"broken-{tag}"
    paths = []
    for name, text in ((f"fine-{tag}", "Ministers met in Istanbul on Monday."),
                       (broken, "This one will BREAK-THE-STAGE, sadly."),
                       (f"also-fine-{tag}", "Talks resume next week.")):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps({"id": name, "text": text}))
        paths.append(path)
    return paths, broken


def test_submit_wait_names_the_articles_finished_with_failed_stages(
        cluster: Cluster, tmp_path: Path) -> None:
    paths, _ = articles(tmp_path)
    done = cluster.cli("submit", *map(str, paths), "--wait", "--timeout", "120", timeout=180)
    assert done.returncode == 0, done.stderr
    assert "finished 3, failed 0, 1 with failed stages: fragile" in done.stderr


def test_status_shows_the_failed_stages_of_a_done_article(
        cluster: Cluster, tmp_path: Path) -> None:
    paths, broken = articles(tmp_path)
    ids = cluster.cli("submit", *map(str, paths), "--wait", "--timeout", "120",
                      timeout=180).stdout.split()
    rows = [json.loads(line) for line in cluster.cli("status", "--json", *ids).stdout.splitlines()]
    assert {r["id"]: (r["status"], r["failed_stages"]) for r in rows} == {
        i: ("done", ["fragile"] if i == broken else []) for i in ids}
    table = cluster.cli("status", *ids).stdout
    assert "failed stages" in table
    assert next(line for line in table.splitlines() if broken in line).rstrip(" │").endswith(
        "fragile")
