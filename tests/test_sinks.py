"""The built-in sinks with real parts: a private PostgreSQL server (tests/postgres_server.py),
Parquet files read back by pyarrow, DuckDB and pandas, and a JSON Lines file."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from copydesk import Pipeline, Settings
from copydesk.document import Document
from copydesk.plugin_manager import build_plugin_manager
from copydesk.plugins.sinks.pg_schema import LATEST
from copydesk.sinks import SinkSetupError, SinkUnavailable, build_sink, check_sinks

from tests.archive_helpers import corpus_documents, layer_counts, pg_counts

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def documents(pipeline: Pipeline) -> list[Document]:
    return corpus_documents(pipeline, 12)


def sink_for(name: str, **table: object):  # type: ignore[no-untyped-def]
    settings = Settings(sinks={name: table})
    return build_sink(name, settings, build_plugin_manager(settings))


# -- settings and building -----------------------------------------------------------------

def test_a_sink_table_from_the_environment_turns_the_sink_on(monkeypatch: pytest.MonkeyPatch,
                                                              tmp_path: Path) -> None:
    monkeypatch.setenv("COPYDESK_SINKS__JSONL__PATH", str(tmp_path / "out.jsonl"))
    monkeypatch.setenv("COPYDESK_SINKS__JSONL__BATCH_SIZE", "7")
    settings = Settings()
    sink = build_sink("jsonl", settings, build_plugin_manager(settings))
    assert sink.config.path == tmp_path / "out.jsonl"
    assert sink.config.batch_size == 7


def test_a_sinks_key_that_is_not_a_table_is_refused() -> None:
    with pytest.raises(ValueError, match=r"sinks.postgres must be a table"):
        Settings(sinks={"postgres": "postgresql://x"})


def test_an_unconfigured_sink_names_the_table_and_the_variable() -> None:
    settings = Settings()
    with pytest.raises(SinkSetupError, match=r"\[sinks.postgres\].*COPYDESK_SINKS__POSTGRES__URL"):
        build_sink("postgres", settings, build_plugin_manager(settings))


def test_an_unknown_sink_lists_the_installed_ones() -> None:
    settings = Settings(sinks={"warehouse": {}})
    with pytest.raises(SinkSetupError, match=r"no sink named 'warehouse'.*jsonl, parquet, "
                                             r"postgres"):
        build_sink("warehouse", settings, build_plugin_manager(settings))


def test_an_invalid_option_names_its_setting(tmp_path: Path) -> None:
    with pytest.raises(SinkSetupError, match=r"sinks.parquet.compression \(COPYDESK_SINKS__"
                                             r"PARQUET__COMPRESSION\)"):
        sink_for("parquet", path=str(tmp_path), compression="lz5")


# -- postgres ------------------------------------------------------------------------------

def test_postgres_stores_one_row_per_document_and_one_per_annotation(
        pg_url: str, documents: list[Document]) -> None:
    with sink_for("postgres", url=pg_url) as sink:
        assert sink.write(documents) == []
    counts = pg_counts(pg_url)
    assert counts == {d.id: layer_counts(d) for d in documents}
    assert sum(c["entities"] + c["quotes"] + c["numbers"] for c in counts.values()) > 0


def test_postgres_keeps_the_document_whole_and_its_columns(
        pg_url: str, documents: list[Document]) -> None:
    doc = documents[0]
    with sink_for("postgres", url=pg_url) as sink:
        sink.write([doc])
    with psycopg.connect(pg_url) as conn:
        row = conn.execute("SELECT title, source, published_at, text, fingerprint, document, "
                           "story_id, duplicate_of FROM copydesk.documents").fetchone()
    assert row is not None
    title, source, published_at, text, fingerprint, stored, story, duplicate = row
    assert (title, source, published_at, text) == (doc.title, doc.source, doc.published_at,
                                                   doc.text)
    assert fingerprint.startswith("sha256-")
    assert Document.model_validate(stored) == doc
    assert (story, duplicate) == (doc.story.id if doc.story else None,
                                  doc.reuse.duplicate_of if doc.reuse else None)


def test_postgres_stores_the_story_id_and_what_a_document_duplicates(
        pg_url: str, documents: list[Document]) -> None:
    from copydesk.document import Reuse, Story

    original = documents[0].model_copy(update={"reuse": None, "story": None})
    copy = documents[1].model_copy(update={
        "reuse": Reuse(duplicate_of=original.id),
        "story": Story(id="story-7", label="airline results", size=2)})
    with sink_for("postgres", url=pg_url) as sink:
        sink.write([original, copy])
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute("SELECT id, story_id, duplicate_of FROM copydesk.documents "
                            "ORDER BY id").fetchall()
    assert rows == sorted([(original.id, None, None), (copy.id, "story-7", original.id)])


def test_writing_a_document_again_replaces_its_rows(pg_url: str,
                                                    documents: list[Document]) -> None:
    doc = next(d for d in documents if len(d.entities) >= 2)
    with sink_for("postgres", url=pg_url) as sink:
        sink.write([doc])
        sink.write([doc])
        fewer = doc.model_copy(update={"entities": doc.entities[:1], "title": "second run"})
        sink.write([fewer])
    with psycopg.connect(pg_url) as conn:
        titles = conn.execute("SELECT title FROM copydesk.documents").fetchall()
    assert titles == [("second run",)]
    assert pg_counts(pg_url)[doc.id]["entities"] == 1


def test_a_document_postgres_refuses_is_returned_and_the_others_are_stored(
        pg_url: str, documents: list[Document]) -> None:
    bad = documents[1].model_copy(update={"title": "nul \x00 inside"})
    batch = [documents[0], bad, documents[2]]
    with sink_for("postgres", url=pg_url) as sink:
        refused = sink.write(batch)
    assert [r.document_id for r in refused] == [bad.id]
    assert "NUL" in refused[0].reason
    assert set(pg_counts(pg_url)) == {documents[0].id, documents[2].id}


def test_the_schema_is_migrated_once_and_recorded(pg_url: str) -> None:
    for _ in range(2):
        with sink_for("postgres", url=pg_url):
            pass
    with psycopg.connect(pg_url) as conn:
        versions = conn.execute("SELECT version FROM copydesk.schema_version").fetchall()
    assert versions == [(v,) for v in range(1, LATEST + 1)]


def test_a_database_newer_than_the_code_is_refused_naming_the_schema(pg_url: str) -> None:
    with sink_for("postgres", url=pg_url):
        pass
    with psycopg.connect(pg_url) as conn:
        conn.execute("INSERT INTO copydesk.schema_version (version) VALUES (%s)", (LATEST + 1,))
    with pytest.raises(SinkUnavailable, match=r"newer than this copydesk.*sinks.postgres.schema"):
        sink_for("postgres", url=pg_url).open()


def test_the_schema_name_is_a_setting(pg_url: str, documents: list[Document]) -> None:
    with sink_for("postgres", url=pg_url, schema="news_archive") as sink:
        sink.write(documents[:2])
    assert set(pg_counts(pg_url, "news_archive")) == {d.id for d in documents[:2]}


def test_a_url_that_cannot_connect_names_the_setting_and_hides_the_password() -> None:
    from tests.postgres_server import free_port

    url = f"postgresql://archivist:s3cret@127.0.0.1:{free_port()}/news"
    with pytest.raises(SinkUnavailable) as caught:
        sink_for("postgres", url=url, connect_timeout=2).open()
    message = str(caught.value)
    assert "sinks.postgres.url (COPYDESK_SINKS__POSTGRES__URL)" in message
    assert "s3cret" not in message


def test_plugins_check_reports_a_sink_that_cannot_connect() -> None:
    from tests.postgres_server import free_port

    settings = Settings(sinks={"postgres": {"url": f"postgresql://u@127.0.0.1:{free_port()}/x",
                                            "connect_timeout": 2}})
    problems = check_sinks(settings, build_plugin_manager(settings))
    assert len(problems) == 1
    assert problems[0].startswith("sink 'postgres': cannot connect")


def test_a_restarted_database_is_reconnected_to(postgres_server, documents: list[Document]
                                                ) -> None:  # type: ignore[no-untyped-def]
    url = postgres_server.new_database()
    with sink_for("postgres", url=url) as sink:
        sink.write(documents[:1])
        postgres_server.stop("immediate")
        try:
            with pytest.raises(SinkUnavailable, match="sinks.postgres.url"):
                sink.write(documents[1:2])
        finally:
            postgres_server.start()
        sink.write(documents[1:3])
    assert set(pg_counts(url)) == {d.id for d in documents[:3]}


# -- parquet -------------------------------------------------------------------------------

def test_parquet_tables_are_partitioned_by_publication_day(tmp_path: Path,
                                                           documents: list[Document]) -> None:
    with sink_for("parquet", path=str(tmp_path)) as sink:
        sink.write(documents[:3])
    days = sorted(p.name for p in (tmp_path / "documents").iterdir())
    assert days == ["published_date=2005-03-01", "published_date=2005-03-02",
                    "published_date=2005-03-03"]


def test_parquet_is_read_back_by_pyarrow_as_the_documents(tmp_path: Path,
                                                          documents: list[Document]) -> None:
    import pyarrow.dataset as ds

    with sink_for("parquet", path=str(tmp_path), batch_size=5) as sink:
        sink.write(documents)
    table = ds.dataset(tmp_path / "documents", partitioning="hive").to_table()
    back = [Document.model_validate_json(raw) for raw in table.column("document").to_pylist()]
    assert sorted(back, key=lambda d: d.id) == sorted(documents, key=lambda d: d.id)
    entities = ds.dataset(tmp_path / "entities", partitioning="hive").to_table()
    assert entities.num_rows == sum(len(d.entities) for d in documents)


def test_parquet_is_read_by_duckdb_with_its_partitions(tmp_path: Path,
                                                       documents: list[Document]) -> None:
    import duckdb

    with sink_for("parquet", path=str(tmp_path)) as sink:
        sink.write(documents)
    quotes = duckdb.sql(
        f"SELECT document_id, count(*) FROM read_parquet('{tmp_path}/quotes/**/*.parquet', "
        "hive_partitioning = true) GROUP BY document_id").fetchall()
    assert dict(quotes) == {d.id: len(d.quotes) for d in documents if d.quotes}
    days = duckdb.sql(
        f"SELECT DISTINCT published_date FROM read_parquet('{tmp_path}/documents/**/*.parquet', "
        "hive_partitioning = true) ORDER BY 1").fetchall()
    assert len(days) == len(documents)


def test_parquet_is_read_by_pandas(tmp_path: Path, documents: list[Document]) -> None:
    import pandas

    with sink_for("parquet", path=str(tmp_path)) as sink:
        sink.write(documents)
    frame = pandas.read_parquet(tmp_path / "numbers")
    assert len(frame) == sum(len(d.numbers) for d in documents)
    assert set(frame.columns) >= {"document_id", "start", "end", "kind", "value", "unit",
                                  "qualifier", "text", "published_date"}


def test_an_undated_document_goes_to_the_null_partition(tmp_path: Path,
                                                        documents: list[Document]) -> None:
    import duckdb

    undated = documents[0].model_copy(update={"published_at": None})
    with sink_for("parquet", path=str(tmp_path)) as sink:
        sink.write([undated])
    assert [p.name for p in (tmp_path / "documents").iterdir()] == [
        "published_date=__HIVE_DEFAULT_PARTITION__"]
    rows = duckdb.sql(f"SELECT id, published_date FROM read_parquet("
                      f"'{tmp_path}/documents/**/*.parquet', hive_partitioning = true)"
                      ).fetchall()
    assert rows == [(undated.id, None)]


def test_parquet_names_the_setting_when_the_directory_cannot_be_written(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(SinkUnavailable, match=r"sinks.parquet.path"):
        sink_for("parquet", path=str(blocker / "archive")).open()


# -- jsonl ---------------------------------------------------------------------------------

def test_jsonl_appends_one_document_per_line(tmp_path: Path, documents: list[Document]) -> None:
    path = tmp_path / "archive" / "documents.jsonl"
    with sink_for("jsonl", path=str(path)) as sink:
        sink.write(documents[:2])
        sink.write(documents[2:3])
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [Document.model_validate(json.loads(line)) for line in lines] == documents[:3]
