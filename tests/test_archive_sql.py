"""The SQL that docs/archive.md shows for the common questions runs against a real archive
and answers them (a private PostgreSQL server, corpus articles written by the postgres sink)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import psycopg
import pytest
from copydesk import Pipeline, Settings
from copydesk.plugin_manager import build_plugin_manager
from copydesk.sinks import build_sink

from tests.archive_helpers import corpus_documents

pytestmark = pytest.mark.postgres

DOC = Path(__file__).resolve().parents[1] / "docs" / "archive.md"


def sql_blocks() -> list[str]:
    return re.findall(r"```sql\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def as_query(block: str) -> tuple[str, dict[str, str]]:
    """A psql block as a psycopg query: ``\\set name 'value'`` lines become parameters and
    ``:'name'`` their placeholders."""
    values = dict(re.findall(r"^\\set (\w+) '([^']*)'$", block, re.M))
    body = re.sub(r"^\\set .*\n", "", block, flags=re.M)
    body = re.sub(r":'(\w+)'", lambda m: f"%({m.group(1)})s", body)
    return body.strip().rstrip(";"), values


@pytest.fixture(scope="module")
def archive(pipeline: Pipeline, postgres_server: Any) -> str:
    url = str(postgres_server.new_database())
    settings = Settings(sinks={"postgres": {"url": url}})
    with build_sink("postgres", settings, build_plugin_manager(settings)) as sink:
        sink.write(corpus_documents(pipeline, 40))
    return url


def run(url: str, block: str) -> list[tuple[Any, ...]]:
    query, values = as_query(block)
    with psycopg.connect(url) as conn:
        return conn.execute(query, values).fetchall()  # type: ignore[arg-type]


def test_the_guide_shows_the_common_questions() -> None:
    assert len(sql_blocks()) >= 2


@pytest.mark.parametrize("index", range(len(sql_blocks())))
def test_each_query_of_the_guide_runs_and_finds_rows(archive: str, index: int) -> None:
    assert run(archive, sql_blocks()[index])


def test_quotes_per_speaker_per_outlet_per_week_add_up_to_the_attributed_quotes(
        archive: str) -> None:
    rows = run(archive, sql_blocks()[0])
    with psycopg.connect(archive) as conn:
        attributed = conn.execute(
            "SELECT count(*) FROM copydesk.quotes WHERE speaker IS NOT NULL").fetchone()
    assert attributed is not None
    assert sum(r[3] for r in rows) == attributed[0]
    assert all(r[1].weekday() == 0 for r in rows)  # weeks start on Monday
