"""``copydesk reprocess`` on files: the plan, only the stale stages re-run, bad lines named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from copydesk.cli import cli

from tests.conftest import shared_path


def run(*args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def timings_aside(doc: dict[str, Any]) -> dict[str, Any]:
    doc = json.loads(json.dumps(doc))
    for r in doc["runs"]:
        r.pop("duration_ms")
    return doc


@pytest.fixture(scope="module")
def corpus40(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """40 corpus articles processed to docs.jsonl, and a config with summary sentences = 2."""
    root = tmp_path_factory.mktemp("reprocess")
    articles = root / "articles.jsonl"
    with shared_path("corpus", "bbc-news-2005.jsonl").open(encoding="utf-8") as src, \
            articles.open("w", encoding="utf-8") as out:
        for _, line in zip(range(40), src, strict=False):
            data = json.loads(line)
            data.pop("category", None)
            out.write(json.dumps(data) + "\n")
    docs = root / "docs.jsonl"
    assert run("process", str(articles), "--format", "jsonl", "-o", str(docs)).exit_code == 0
    config = root / "that.toml"
    config.write_text("[stage.summary]\nsentences = 2\n")
    return {"articles": articles, "docs": docs, "config": config, "root": root}


@pytest.mark.slow
def test_dry_run_reports_summary_stale_by_config_and_the_rest_current(
        corpus40: dict[str, Path]) -> None:
    result = run("--config", str(corpus40["config"]), "reprocess", str(corpus40["docs"]),
                 "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["documents"] == plan["to_reprocess"] == 40
    stages = plan["stages"]
    assert stages["summary"]["stale"] == stages["summary"]["stale_by"]["config"] == 40
    assert all(stages[s]["current"] == 40 for s in ("cleaning", "entities", "numbers", "quotes"))


@pytest.mark.slow
def test_dry_run_prints_the_plan_table_and_changes_nothing(corpus40: dict[str, Path]) -> None:
    before = corpus40["docs"].read_bytes()
    result = run("--config", str(corpus40["config"]), "reprocess", str(corpus40["docs"]),
                 "--dry-run")
    assert result.exit_code == 0
    summary_row = next(r for r in result.stdout.splitlines() if "summary" in r)
    assert "40 (config)" in summary_row
    assert "40 of 40 document(s) would be reprocessed" in result.stdout
    assert corpus40["docs"].read_bytes() == before


@pytest.mark.slow
def test_reprocess_rewrites_only_the_summary_and_equals_a_fresh_run(
        corpus40: dict[str, Path]) -> None:
    root, config = corpus40["root"], str(corpus40["config"])
    out, fresh = root / "re.jsonl", root / "fresh.jsonl"
    result = run("--config", config, "reprocess", str(corpus40["docs"]), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert run("--config", config, "process", str(corpus40["articles"]), "--format", "jsonl",
               "-o", str(fresh)).exit_code == 0
    originals, reprocessed, fresh_docs = lines(corpus40["docs"]), lines(out), lines(fresh)
    assert len(reprocessed) == 40
    for original, doc, new in zip(originals, reprocessed, fresh_docs, strict=True):
        assert timings_aside(doc) == timings_aside(new)
        assert {k: v for k, v in doc.items() if k not in ("summary", "runs")} == \
            {k: v for k, v in original.items() if k not in ("summary", "runs")}
        assert doc["runs"][:-1] == original["runs"][:-1]  # every other run unchanged
        assert doc["runs"][-1]["stage"] == "summary"
        assert len(doc["summary"]["sentences"]) <= 2


def test_a_current_document_is_written_exactly_as_it_was_read(tmp_path: Path) -> None:
    article = tmp_path / "a.txt"
    article.write_text("Kyiv said on Monday that talks would resume.")
    docs = tmp_path / "docs.jsonl"
    run("--stages", "cleaning", "process", str(article), "--format", "jsonl", "-o", str(docs))
    result = run("--stages", "cleaning", "reprocess", str(docs))
    assert result.exit_code == 0
    assert result.stdout == docs.read_text()


def test_a_line_that_is_not_a_document_is_named_and_the_others_go_on(tmp_path: Path) -> None:
    article = tmp_path / "a.txt"
    article.write_text("Kyiv said on Monday that talks would resume.")
    good = run("--stages", "cleaning", "process", str(article), "--format", "jsonl").stdout
    docs = tmp_path / "docs.jsonl"
    docs.write_text(good + "not json at all\n" + '{"id": "x-1", "text": "no raw_text"}\n'
                    + good)
    result = run("--stages", "cleaning,numbers", "reprocess", str(docs))
    assert result.exit_code == 1
    assert f"{docs}:2: not JSON" in result.stderr
    assert f"{docs}:3: not a Document" in result.stderr and "raw_text" in result.stderr
    written = [json.loads(x) for x in result.stdout.splitlines()]
    assert len(written) == 2
    assert all([r["stage"] for r in d["runs"]] == ["cleaning", "numbers"] for d in written)


def test_an_indented_single_document_file_is_read_whole(tmp_path: Path) -> None:
    article = tmp_path / "a.txt"
    article.write_text("Kyiv said on Monday that talks would resume.")
    doc = tmp_path / "doc.json"
    run("--stages", "cleaning", "process", str(article), "--format", "json", "-o", str(doc))
    assert "\n  " in doc.read_text()
    result = run("--stages", "cleaning", "reprocess", str(doc), "--dry-run", "--json")
    assert json.loads(result.stdout)["documents"] == 1


def test_stored_without_the_queue_plugin_is_a_clear_error() -> None:
    result = CliRunner(env={"COPYDESK_DISABLE_PLUGINS": "queue"}).invoke(
        cli, ["reprocess", "--stored"], catch_exceptions=False)
    assert result.exit_code == 1 and "needs the queue plugin" in result.output


def test_indented_documents_one_after_another_are_each_read(tmp_path: Path) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("Kyiv said on Monday that talks would resume.")
    b.write_text("Moscow said nothing.")
    docs = tmp_path / "docs.json"
    run("--stages", "cleaning", "process", str(a), str(b), "--format", "json", "--indent",
        "-o", str(docs))
    result = run("--stages", "cleaning", "reprocess", str(docs))
    assert result.exit_code == 0, result.output
    assert [json.loads(x)["text"][:4] for x in result.stdout.splitlines()] == ["Kyiv", "Mosc"]


def test_hook_reprocess_stored_is_what_reprocess_stored_runs() -> None:
    from copydesk import hookimpl
    from copydesk.cli.root import boot_plugins

    calls = []

    class Stored:
        @hookimpl
        def reprocess_stored(self, state, status, limit, dry_run, as_json):  # type: ignore[no-untyped-def]
            calls.append((status, limit, dry_run, as_json))
            click.echo(f"{status} planned by {type(self).__name__}")
            return True

    plugins = boot_plugins()
    plugins.register(Stored(), "stored-documents")
    try:
        result = run("reprocess", "--stored", "--status", "failed", "--limit", "3",
                     "--dry-run")
    finally:
        plugins.pm.unregister(name="stored-documents")
        plugins.info.pop("stored-documents", None)
    assert result.exit_code == 0, result.output
    assert calls == [("failed", 3, True, False)]
    assert result.stdout == "failed planned by Stored\n"
