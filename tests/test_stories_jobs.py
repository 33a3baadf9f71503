"""``copydesk process -j 2`` writes the stories ``-j 1`` writes."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import shared_path

COPYDESK = str(Path(sys.executable).with_name("copydesk"))


def process(*args: str) -> list[dict[str, Any]]:
    done = subprocess.run([COPYDESK, "--stages", "entities,stories", "process", "--format",
                           "jsonl", *args], capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-2000:]
    return [json.loads(line) for line in done.stdout.splitlines()]


@pytest.mark.slow
def test_two_processes_write_the_stories_one_process_writes(tmp_path: Path) -> None:
    start = datetime(2005, 2, 1, 6, 0)
    lines = shared_path("corpus", "bbc-news-2005.jsonl").open(encoding="utf-8").readlines()
    rows = []
    for i, line in enumerate(lines[:240]):
        row = json.loads(line)
        rows.append({"id": row["id"], "title": row["title"], "text": row["text"],
                     "published_at": (start + timedelta(minutes=20 * i)).isoformat()})
    head = tmp_path / "head.jsonl"
    head.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    one, two = process(str(head)), process("-j", "2", str(head))
    assert [d["story"] for d in two] == [d["story"] for d in one]
    assert sum(d["story"]["size"] > 1 for d in one) > 20
