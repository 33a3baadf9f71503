"""Broken plugins are loud where it matters: a worker refuses to start without them, and
``copydesk queue`` warns when the workers of one queue run different plugin sets."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import install_fixture_plugin
from tests.integration.conftest import COPYDESK, Cluster

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture(scope="module")
def extra_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The broken-import and raising-stage fixture plugins, installed in one directory."""
    root = tmp_path_factory.mktemp("extra-site")
    install_fixture_plugin(root, FIXTURES / "copydesk_broken_import")
    install_fixture_plugin(root, FIXTURES / "copydesk_raising_stage")
    return root


def with_site(cluster: Cluster, site: Path, plugins: str) -> dict[str, str]:
    return {"PYTHONPATH": os.pathsep.join([str(cluster.plugin_path), str(site)]),
            "COPYDESK_LOAD_PLUGINS": plugins}


def test_worker_refuses_to_start_when_a_plugin_fails_to_import(
        make_cluster, extra_site: Path) -> None:  # type: ignore[no-untyped-def]
    cluster: Cluster = make_cluster()
    env = cluster.env(**with_site(cluster, extra_site, "queue,probe,broken_import"))
    out = subprocess.run([COPYDESK, "worker", "-n", f"refused@{cluster.prefix}", "-c", "1"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    assert "refusing to start: plugin 'broken_import': import failed: ModuleNotFoundError" \
        in out.stderr
    assert "--allow-broken-plugins" in out.stderr
    assert not cluster.client().queue_info().workers  # it never announced itself


def test_worker_with_allow_broken_plugins_starts_and_says_which_are_broken(
        make_cluster, extra_site: Path) -> None:  # type: ignore[no-untyped-def]
    cluster: Cluster = make_cluster()
    cluster.start_worker("lenient", 1, "--allow-broken-plugins",
                         **with_site(cluster, extra_site, "queue,probe,broken_import"))
    article_id = "lenient-1"
    cluster.client().submit({"id": article_id, "text": "Talks resume on Monday."})
    status = cluster.client().wait(article_id, timeout=60)
    assert status is not None and status.status == "done"
    assert "starting with broken plugins" in cluster.log(f"lenient@{cluster.prefix}")


def test_worker_heartbeat_publishes_its_plugins_and_versions(cluster: Cluster) -> None:
    listed = json.loads(cluster.cli("queue", "--json").stdout)
    worker = next(w for w in listed["workers"] if w["alive"])
    assert worker["queue"] == cluster.queue
    assert worker["plugins"] == {"probe": "0.1.0", "queue": "0.1.0"}
    assert listed["plugin_warning"] == []
    assert "different plugin sets" not in cluster.cli("queue").stdout


def test_queue_warns_when_workers_on_one_queue_run_different_plugin_sets(
        make_cluster, extra_site: Path) -> None:  # type: ignore[no-untyped-def]
    cluster: Cluster = make_cluster()
    cluster.start_worker("plain", 1)
    cluster.start_worker("extra", 1, **with_site(cluster, extra_site,
                                                 "queue,probe,raising_stage"))
    shown = cluster.cli("queue")
    assert shown.returncode == 0, shown.stderr
    out = " ".join(shown.stdout.split())
    assert f"the workers on queue {cluster.queue!r} run different plugin sets" in out
    assert f"plain@{cluster.prefix}: probe 0.1.0, queue 0.1.0" in out
    assert f"extra@{cluster.prefix}: probe 0.1.0, queue 0.1.0, raising_stage 0.0.1" in out
    listed = json.loads(cluster.cli("queue", "--json").stdout)
    assert len(listed["plugin_warning"]) == 3
