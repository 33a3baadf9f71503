"""examples/enqueue_with_redis.py: copydesk's own setting names, and a clear failure when
Redis cannot be reached."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.conftest import Cluster, free_port

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "enqueue_with_redis.py"
SAMPLE = ROOT / "tests" / "data" / "istanbul-peace-talks.txt"


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(EXAMPLE), *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_the_example_uses_copydesk_settings_and_gets_the_document(cluster: Cluster) -> None:
    done = run(cluster.env(), str(SAMPLE), "--timeout", "90")
    assert done.returncode == 0, done.stderr
    assert f"on {cluster.queue!r}" in done.stdout
    line = next(x for x in done.stdout.splitlines() if x.startswith("done "))
    article_id = line.split()[1].rstrip(":")
    status = cluster.client().status(article_id)
    assert status is not None and status.status == "done"


def test_the_example_says_clearly_when_redis_cannot_be_reached(cluster: Cluster) -> None:
    url = f"redis://user:secret@127.0.0.1:{free_port()}/0"
    done = run(cluster.env(COPYDESK_REDIS_URL=url), str(SAMPLE))
    assert done.returncode == 2
    assert "cannot reach Redis at redis://user:***@127.0.0.1:" in done.stderr
    assert "secret" not in done.stderr and "Traceback" not in done.stderr
