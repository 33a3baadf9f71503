"""``copydesk process -j N``: N processes forked after the models load, same output as one."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from copydesk.parallel import chunk_size, resolve_jobs

from tests.conftest import shared_path

COPYDESK = str(Path(sys.executable).with_name("copydesk"))


def corpus_jsonl(tmp_path: Path, n: int, bad_at: int | None = None) -> tuple[Path, list[str]]:
    """The first ``n`` corpus articles as a JSON Lines input (optionally a bad line at
    ``bad_at``), and their ids in order."""
    lines, ids = [], []
    with shared_path("corpus", "bbc-news-2005.jsonl").open(encoding="utf-8") as rows:
        for row in map(json.loads, rows):
            if bad_at is not None and len(lines) == bad_at:
                lines.append('{"id": "broken", "text": ')  # not JSON
            lines.append(json.dumps({k: row[k] for k in ("id", "title", "text")}))
            ids.append(row["id"])
            if len(ids) == n:
                break
    path = tmp_path / "articles.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, ids


def without_timings(line: str) -> dict[str, Any]:
    doc = json.loads(line)
    for run in doc["runs"]:
        run.pop("duration_ms")
    return doc


def process(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([COPYDESK, "process", "--format", "jsonl", *args],
                          capture_output=True, text=True, timeout=timeout)


def test_jobs_zero_means_one_per_core() -> None:
    assert resolve_jobs(0) >= 1 and resolve_jobs(3) == 3


def test_chunks_shrink_so_each_process_gets_several() -> None:
    assert chunk_size(total=40, jobs=2, batch_size=32) == 5
    assert chunk_size(total=10_000, jobs=2, batch_size=32) == 32
    assert chunk_size(total=1, jobs=4, batch_size=32) == 1


@pytest.mark.slow
def test_two_processes_print_the_same_documents_as_one(tmp_path: Path) -> None:
    path, ids = corpus_jsonl(tmp_path, 40)
    one, two = process(str(path)), process("-j", "2", str(path))
    assert one.returncode == 0 and two.returncode == 0, two.stderr
    assert [json.loads(line)["id"] for line in two.stdout.splitlines()] == ids
    assert list(map(without_timings, two.stdout.splitlines())) == \
        list(map(without_timings, one.stdout.splitlines()))


@pytest.mark.slow
def test_a_bad_input_in_the_middle_is_reported_and_the_rest_processed_in_order(
        tmp_path: Path) -> None:
    path, ids = corpus_jsonl(tmp_path, 12, bad_at=6)
    done = process("-j", "2", str(path))
    assert done.returncode == 1
    assert f"{path}:7: not valid JSON" in done.stderr
    assert [json.loads(line)["id"] for line in done.stdout.splitlines()] == ids


@pytest.mark.slow
def test_ctrl_c_stops_the_processes_and_leaves_whole_documents_in_input_order(
        tmp_path: Path) -> None:
    path, ids = corpus_jsonl(tmp_path, 300)
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen([COPYDESK, "process", "-j", "2", "--format", "jsonl", "-o",
                             str(out), str(path)], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists() and out.read_text(encoding="utf-8").count("\n") >= 5:
            break
        time.sleep(0.2)
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
    assert len(children) == 2
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr
    written = out.read_text(encoding="utf-8").splitlines()
    assert 5 <= len(written) < len(ids)
    assert [json.loads(line)["id"] for line in written] == ids[:len(written)]
    assert f"{len(written)} of 300" in stderr
    time.sleep(0.5)
    assert not [pid for pid in children if running(int(pid))]


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (not gone, not a zombie)."""
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
