"""The reuse stage on the whole shared corpus with ``process -j``: every later copy of a
text points at the earliest copy, nothing else is called a duplicate, and the output is
the same for any number of processes."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from copydesk.plugins.reuse.words import normalise

from tests.conftest import shared_path

COPYDESK = str(Path(sys.executable).with_name("copydesk"))
CORPUS = shared_path("corpus", "bbc-news-2005.jsonl")


def process(*args: str) -> list[dict[str, Any]]:
    done = subprocess.run([COPYDESK, "--stages", "reuse", "process", "--format", "jsonl",
                           *args], capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-2000:]
    return [json.loads(line) for line in done.stdout.splitlines()]


@pytest.mark.slow
def test_two_processes_mark_every_later_copy_of_the_corpus_and_nothing_else() -> None:
    rows = [json.loads(line) for line in CORPUS.open(encoding="utf-8")]
    same: dict[str, list[str]] = defaultdict(list)
    for row in rows:  # input order is the order of arrival: the first is the earliest
        same[normalise(row["text"])].append(row["id"])
    groups = [ids for ids in same.values() if len(ids) > 1]
    exact = {row["text"] for row in rows}
    assert len(groups) >= len(rows) - len(exact) > 100  # the corpus has its copies

    docs = {d["id"]: d for d in process("-j", "2", str(CORPUS))}
    assert len(docs) == len(rows)
    earliest = {later: ids[0] for ids in groups for later in ids[1:]}
    marked = {i: d["reuse"]["duplicate_of"] for i, d in docs.items()
              if d["reuse"]["duplicate_of"] is not None}
    assert marked == earliest


@pytest.mark.slow
def test_three_processes_write_the_reuse_one_process_writes(tmp_path: Path) -> None:
    head = tmp_path / "head.jsonl"
    head.write_text("".join(CORPUS.open(encoding="utf-8").readlines()[:500]),
                    encoding="utf-8")
    one, three = process(str(head)), process("-j", "3", str(head))
    assert [d["reuse"] for d in three] == [d["reuse"] for d in one]
    assert sum(bool(d["reuse"]["sources"]) for d in one) > 10
