"""The command line: process, plugins, schema, and how errors are reported."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from copydesk.cli import cli

SAMPLE = Path(__file__).parent / "data" / "istanbul-peace-talks.txt"


def run(*args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)


def test_process_prints_a_document_for_the_sample_article() -> None:
    result = run("process", str(SAMPLE))
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["schema_version"] == 1 and doc["status"] == "done"
    assert "Çırağan Palace" in doc["text"]
    assert all(r["status"] == "ok" for r in doc["runs"]), doc["runs"]


def test_process_several_inputs_prints_json_lines_in_order(tmp_path: Path) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("Kyiv said on Monday that talks would resume.")
    b.write_text("Moscow said nothing.")
    result = run("--stages", "", "process", str(a), str(b))
    lines = result.stdout.strip().splitlines()
    assert [json.loads(line)["text"][:4] for line in lines] == ["Kyiv", "Mosc"]


def test_json_output_of_several_inputs_is_json_lines_however_many_are_refused(
        tmp_path: Path) -> None:
    good, empty = tmp_path / "good.txt", tmp_path / "empty.txt"
    good.write_text("Kyiv said on Monday that talks would resume.")
    empty.write_text("   \n")
    result = run("--stages", "", "process", "--format", "json", str(good), str(empty))
    assert result.exit_code == 1
    [line] = result.stdout.splitlines()  # one compact Document, as when both succeed
    assert json.loads(line)["raw_text"].startswith("Kyiv")


def test_uninstall_off_a_terminal_asks_for_yes_instead_of_prompting() -> None:
    result = CliRunner().invoke(cli, ["uninstall", "copydesk-tonecheck"], input="")
    assert result.exit_code == 2
    assert "add -y to uninstall without asking" in result.output


def test_a_table_for_people_is_not_wrapped_at_80_columns_off_a_terminal() -> None:
    from copydesk.views.terminal import out_console
    from rich.table import Table

    console = out_console()
    assert not console.is_terminal  # pytest captures standard output
    table = Table("id", "error")
    error = "stage 'tone' raised ValueError: " + "; ".join(["the lexicon is missing"] * 6)
    table.add_row("a-1", error)
    with console.capture() as captured:
        console.print(table)
    [row] = [line for line in captured.get().splitlines() if "a-1" in line]
    assert error in row  # one line of 170 characters


def test_process_reads_jsonl_articles_with_their_fields(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"id": "a-1", "text": "One.", "title": "T",
                                "metadata": {"desk": "world"}}) + "\n")
    doc = json.loads(run("process", str(path)).stdout)
    assert (doc["id"], doc["title"], doc["metadata"]) == ("a-1", "T", {"desk": "world"})


def test_process_reads_standard_input() -> None:
    result = run("process", "-", stdin='{"id": "in-1", "text": "From stdin."}\n')
    assert json.loads(result.stdout)["id"] == "in-1"


def test_bad_input_is_named_and_the_other_inputs_still_print(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text("Putin spoke on Monday.")
    empty = tmp_path / "empty.txt"
    empty.write_text("   \n")
    binary = tmp_path / "blob.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    lines = tmp_path / "bad.jsonl"
    lines.write_text('{"text": "fine"}\n{"text": \n')
    result = run("process", str(good), str(empty), str(binary), str(lines),
                 str(tmp_path / "missing.txt"))
    assert result.exit_code == 1
    assert f"{empty}: " in result.stderr and "empty" in result.stderr
    assert f"{binary}: binary" in result.stderr
    assert f"{lines}:2: not valid JSON" in result.stderr
    assert "missing.txt: cannot read" in result.stderr
    texts = [json.loads(line)["raw_text"] for line in result.stdout.splitlines()]
    assert texts == ["Putin spoke on Monday.", "fine"]


def test_process_writes_to_an_output_file(tmp_path: Path) -> None:
    out = tmp_path / "doc.json"
    result = run("process", str(SAMPLE), "-o", str(out))
    assert result.exit_code == 0
    assert json.loads(out.read_text())["status"] == "done"


def test_text_format_shows_a_readable_view() -> None:
    result = run("process", str(SAMPLE), "--format", "text")
    assert "runs" in result.stdout and "Istanbul" in result.stdout


def test_unknown_stage_is_a_one_line_error() -> None:
    result = run("--stages", "nope", "process", str(SAMPLE))
    assert result.exit_code == 1
    assert "unknown stage 'nope'" in result.stderr


def test_schema_prints_the_document_json_schema() -> None:
    schema = json.loads(run("schema").stdout)
    assert schema["title"] == "Document"
    assert "entities" in schema["properties"]


def test_plugins_lists_built_in_plugins_and_the_stage_order() -> None:
    data = json.loads(run("plugins", "--json").stdout)
    assert data["order_error"] is None
    assert data["order"] == ["cleaning", "entities", "reuse", "numbers", "quotes", "stories",
                             "summary"]
    names = {p["name"]: p for p in data["plugins"]}
    assert {"cleaning", "entities", "numbers", "quotes", "summary", "queue"} <= set(names)
    assert names["quotes"]["stages"][0]["requires"] == ["text", "entities"]
    assert all(p["version"] == "0.1.0" for p in names.values())


def test_published_at_option_anchors_relative_dates_of_plain_text() -> None:
    result = run("process", str(SAMPLE), "--published-at", "2025-06-01T09:00:00+00:00")
    doc = json.loads(result.stdout)
    assert doc["published_at"].startswith("2025-06-01T09:00:00")
    monday = next(n for n in doc["numbers"] if n["text"] == "Monday")
    assert monday["value"] == "2025-06-02"


def test_published_at_option_that_is_not_a_date_is_refused() -> None:
    result = run("process", str(SAMPLE), "--published-at", "next week")
    assert result.exit_code == 2
    assert "not an ISO 8601 date" in result.stderr


def test_config_file_allow_list_decides_which_plugins_are_loaded(tmp_path: Path) -> None:
    config = tmp_path / "copydesk.toml"
    config.write_text('load_plugins = ["cleaning"]\n')
    data = json.loads(run("--config", str(config), "plugins", "--json").stdout)
    assert [p["name"] for p in data["plugins"]] == ["cleaning"]
    assert data["order"] == ["cleaning"]


def test_global_options_are_accepted_after_the_subcommand(tmp_path: Path) -> None:
    config = tmp_path / "copydesk.toml"
    config.write_text('load_plugins = ["cleaning"]\n')
    after = run("plugins", "--json", "--config", str(config), "--log-level", "ERROR")
    assert after.exit_code == 0, after.output
    assert json.loads(after.stdout)["order"] == ["cleaning"]


def test_stages_and_model_after_the_subcommand_mean_what_they_mean_before(tmp_path: Path) -> None:
    article = tmp_path / "a.txt"
    article.write_text("Kyiv said on Monday that talks would resume.")
    before = run("--stages=cleaning", "process", str(article))
    after = run("process", str(article), "--stages=cleaning")
    def stages(result) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
        return [(r["stage"], r["status"]) for r in json.loads(result.stdout)["runs"]]

    assert stages(after) == stages(before) == [("cleaning", "ok")]
    missing = run("process", str(article), "--stages", "entities", "--model", "no_such_model")
    assert missing.exit_code == 1 and "no_such_model" in missing.stderr


def test_an_argument_after_double_dash_is_not_taken_for_a_global_option(tmp_path: Path) -> None:
    result = run("process", "--", "--config")
    assert result.exit_code == 1
    assert "--config: cannot read" in result.stderr


def test_plugins_shows_each_stage_description_capabilities_and_config_on_a_narrow_terminal(
) -> None:
    from copydesk.cli.root import _plugins

    result = CliRunner(env={"COLUMNS": "60"}).invoke(cli, ["plugins"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "…" not in out
    for entry in _plugins.stages():
        stage = entry.stage
        assert f"stage {stage.name}: {stage.description}" in out
        assert f"optional: {', '.join(stage.optional) or '—'}" in out
        for name, field in stage.Config.model_fields.items():
            assert f"{name} (" in out and (field.description or "") in out
    assert "optional: entities, numbers, headings" in out  # the summary stage's


def test_plugins_json_includes_each_stage_config_options_and_json_schema() -> None:
    data = json.loads(run("plugins", "--json").stdout)
    summary = next(s for p in data["plugins"] for s in p["stages"] if s["name"] == "summary")
    assert summary["optional"] == ["entities", "numbers", "headings"]
    assert summary["config_schema"]["properties"]["sentences"]["type"] == "integer"
    sentences = next(o for o in summary["config"] if o["name"] == "sentences")
    assert (sentences["type"], sentences["default"], sentences["required"]) == ("int", 3, False)
    assert sentences["description"] == "How many sentences to pick."


def test_plugins_check_exits_zero_when_every_configured_stage_can_run() -> None:
    result = run("plugins", "--check")
    assert result.exit_code == 0, result.output
    assert "every plugin loads and every configured stage can run" in result.stderr


def test_plugins_check_fails_when_a_configured_stage_has_invalid_config(tmp_path: Path) -> None:
    config = tmp_path / "copydesk.toml"
    config.write_text('[stage.summary]\nsentences = "three"\n')
    result = run("plugins", "--check", "--config", str(config))
    assert result.exit_code == 1
    assert "invalid config for stage 'summary' (plugin 'summary')" in result.stderr


def test_plugins_check_fails_naming_the_stages_whose_spacy_model_cannot_load() -> None:
    result = run("--model", "no_such_model", "plugins", "--check", "--json")
    assert result.exit_code == 1
    check = json.loads(result.stdout)["check"]
    assert check["ok"] is False
    assert "'entities' (plugin 'entities')" in check["problems"][0]
    assert "no_such_model" in result.stderr
