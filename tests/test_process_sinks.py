"""``copydesk process FILES --sink NAME``: Documents written to sinks in-process, and the
errors that name the setting to change (real files, a real PostgreSQL server)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from copydesk.cli import cli
from copydesk.document import Document

from tests.archive_helpers import corpus_articles
from tests.postgres_server import free_port

COPYDESK = str(Path(sys.executable).with_name("copydesk"))


def run(*args: str, **env: str):  # type: ignore[no-untyped-def]
    return CliRunner(env=env).invoke(cli, list(args), catch_exceptions=False)


def write_articles(path: Path, count: int, start: int = 0) -> Path:
    path.write_text("".join(a.model_dump_json(exclude_none=True) + "\n"
                            for a in corpus_articles(count, start)), encoding="utf-8")
    return path


def test_process_writes_each_document_to_the_jsonl_sink(tmp_path: Path) -> None:
    articles = write_articles(tmp_path / "in.jsonl", 3)
    archive = tmp_path / "archive.jsonl"
    result = run("--stages", "cleaning,numbers", "process", str(articles), "--sink", "jsonl",
                 "-o", str(tmp_path / "out.jsonl"), COPYDESK_SINKS__JSONL__PATH=str(archive))
    assert result.exit_code == 0, result.output
    assert "archived 3 document(s) in sink 'jsonl'" in result.stderr
    stored = [Document.model_validate_json(line) for line in archive.read_text().splitlines()]
    printed = [Document.model_validate_json(line)
               for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert stored == printed and len(stored) == 3


def test_process_writes_to_every_sink_named(tmp_path: Path, pg_url: str) -> None:
    articles = write_articles(tmp_path / "in.jsonl", 4)
    result = run("--stages", "cleaning,entities", "process", str(articles), "--sink", "parquet",
                 "--sink", "postgres", "-o", os.devnull,
                 COPYDESK_SINKS__PARQUET__PATH=str(tmp_path / "pq"),
                 COPYDESK_SINKS__POSTGRES__URL=pg_url)
    assert result.exit_code == 0, result.output
    with psycopg.connect(pg_url) as conn:
        stored = conn.execute("SELECT count(*) FROM copydesk.documents").fetchone()
    assert stored == (4,)
    assert len(list((tmp_path / "pq" / "documents").glob("*/*.parquet"))) == 4


def test_process_refuses_a_sink_that_is_not_configured(tmp_path: Path) -> None:
    articles = write_articles(tmp_path / "in.jsonl", 1)
    result = run("process", str(articles), "--sink", "parquet")
    assert result.exit_code == 1
    assert "sink 'parquet' is not configured" in result.stderr
    assert "COPYDESK_SINKS__PARQUET__PATH" in result.stderr


def test_process_stops_before_processing_when_the_database_cannot_be_reached(
        tmp_path: Path) -> None:
    articles = write_articles(tmp_path / "in.jsonl", 1)
    result = run("process", str(articles), "--sink", "postgres",
                 COPYDESK_SINKS__POSTGRES__URL=f"postgresql://u@127.0.0.1:{free_port()}/db",
                 COPYDESK_SINKS__POSTGRES__CONNECT_TIMEOUT="2")
    assert result.exit_code == 1
    assert "cannot connect" in result.stderr and "sinks.postgres.url" in result.stderr
    assert result.stdout == ""


def test_process_reports_a_document_the_sink_refuses_and_stores_the_others(
        tmp_path: Path, pg_url: str) -> None:
    articles = [json.loads(a.model_dump_json(exclude_none=True))
                for a in corpus_articles(3)]
    articles[1]["title"] = "a NUL \x00 in the title"
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(a) + "\n" for a in articles))
    result = run("--stages", "cleaning", "process", str(path), "--sink", "postgres",
                 "-o", os.devnull, COPYDESK_SINKS__POSTGRES__URL=pg_url)
    assert result.exit_code == 1
    assert f"not archived {articles[1]['id']} in sink 'postgres'" in result.stderr
    with psycopg.connect(pg_url) as conn:
        ids = {r[0] for r in conn.execute("SELECT id FROM copydesk.documents")}
    assert ids == {articles[0]["id"], articles[2]["id"]}


@pytest.mark.slow
def test_plugins_check_fails_naming_the_url_setting_of_an_unreachable_database() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPYDESK_")}
    env.update(COPYDESK_SINKS__POSTGRES__URL=f"postgresql://u@127.0.0.1:{free_port()}/db",
               COPYDESK_SINKS__POSTGRES__CONNECT_TIMEOUT="2",
               COPYDESK_PIPELINE__STAGES="cleaning")
    done = subprocess.run([COPYDESK, "plugins", "--check"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1
    assert "sink 'postgres': cannot connect" in done.stderr
    assert "COPYDESK_SINKS__POSTGRES__URL" in done.stderr


@pytest.mark.slow
def test_process_of_a_hundred_corpus_articles_to_parquet_reads_back_as_a_hundred_documents(
        tmp_path: Path) -> None:
    import pyarrow.dataset as ds

    articles = write_articles(tmp_path / "in.jsonl", 100, start=400)
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPYDESK_")}
    env["COPYDESK_SINKS__PARQUET__PATH"] = str(tmp_path / "archive")
    done = subprocess.run([COPYDESK, "process", str(articles), "--sink", "parquet",
                           "-o", os.devnull], env=env, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stderr
    table = ds.dataset(tmp_path / "archive" / "documents", partitioning="hive").to_table()
    documents = [Document.model_validate_json(raw)
                 for raw in table.column("document").to_pylist()]
    assert len(documents) == 100
    assert {d.id for d in documents} == {a.id for a in corpus_articles(100, start=400)}
    assert all(d.status == "done" for d in documents)
