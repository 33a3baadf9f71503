"""The plugin system: hookspecs, loading, allow-list, tracing and broken plugins."""

from __future__ import annotations

import inspect
import json
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from copydesk import Article, Pipeline, PipelineError, Settings, hookimpl, hookspecs
from copydesk.logs import configure_logging
from copydesk.plugin_manager import PluginManager

from tests.helpers import CapitalsStage, Plugin, TextStage, copy_project, install_fixture_plugin

TESTS = Path(__file__).parent
FIXTURES = TESTS / "fixtures"
EXAMPLE = TESTS.parent / "examples" / "copydesk_readtime"  # the README's example plugin


def hook_names() -> list[str]:
    return [
        name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(fn, "copydesk_spec")
    ]


def test_every_hook_has_a_docstring() -> None:
    assert hook_names(), "no hookspecs found"
    for name in hook_names():
        doc = getattr(hookspecs, name).__doc__
        assert doc and len(doc.strip()) > 40, f"hook {name} needs a docstring"


def test_every_hook_has_a_test_of_its_own() -> None:
    sources = "\n".join(p.read_text() for p in TESTS.rglob("test_*.py"))
    for name in hook_names():
        assert re.search(rf"def test_hook_{name}\w*\(", sources), f"no test_hook_{name}_… test"


def test_hook_register_stages_contributes_stages_to_the_pipeline() -> None:
    manager = PluginManager(load=[])
    manager.register(Plugin(TextStage, CapitalsStage), "caps")
    assert [e.stage.name for e in manager.stages()] == ["strip", "capitals"]
    assert manager.info["caps"].stages == ["strip", "capitals"]


def test_hook_register_commands_adds_a_cli_command() -> None:
    class CommandPlugin:
        @hookimpl
        def register_commands(self, cli: click.Group) -> None:
            @cli.command(name="hello")
            def hello() -> None:
                click.echo("hello from a plugin")

    group = click.Group("copydesk")
    manager = PluginManager(load=[])
    manager.register(CommandPlugin(), "cmd")
    manager.register_commands(group)
    assert "hello" in group.commands


def test_hook_register_commands_command_reaches_the_loaded_settings(tmp_path: Path) -> None:
    from click.testing import CliRunner
    from copydesk.cli import CliState, cli

    class CommandPlugin:
        @hookimpl
        def register_commands(self, cli: click.Group) -> None:
            @cli.command(name="tone-report")
            @click.pass_obj
            def tone_report(state: CliState) -> None:
                click.echo(f"{state.settings.spacy.model} "
                           f"{state.settings.stage['tone']['threshold']}")

    config = tmp_path / "copydesk.toml"
    config.write_text('[spacy]\nmodel = "en_core_web_md"\n[stage.tone]\nthreshold = 0.7\n')
    manager = PluginManager(load=[])
    manager.register(CommandPlugin(), "tone")
    manager.register_commands(cli)
    try:
        before = CliRunner().invoke(cli, ["--config", str(config), "tone-report"])
        after = CliRunner().invoke(cli, ["tone-report", "--config", str(config)])
    finally:
        cli.commands.pop("tone-report")
    assert before.exit_code == 0, before.output
    assert before.stdout.strip() == "en_core_web_md 0.7"
    assert after.stdout == before.stdout


def test_hook_document_finished_sees_every_finished_document() -> None:
    finished: list[tuple[str, str]] = []

    class Observer:
        @hookimpl
        def document_finished(self, document, settings):  # type: ignore[no-untyped-def]
            finished.append((document.id, document.status))

    manager = PluginManager(load=[])
    manager.register(Plugin(TextStage), "text")
    manager.register(Observer(), "observer")
    pipeline = Pipeline.build(Settings(), manager)
    pipeline.process_many([Article(id="a", text="x"), Article(id="b", text="y")])
    assert finished == [("a", "done"), ("b", "done")]


def test_hook_document_finished_is_wrappable_by_a_hookwrapper() -> None:
    calls: list[str] = []

    class Wrapper:
        @hookimpl(wrapper=True)
        def document_finished(self, document, settings):  # type: ignore[no-untyped-def]
            calls.append(f"before {document.id}")
            result = yield
            calls.append(f"after {document.id}")
            return result

    class Observer:
        @hookimpl
        def document_finished(self, document, settings):  # type: ignore[no-untyped-def]
            calls.append(f"observe {document.id}")

    manager = PluginManager(load=[])
    manager.register(Plugin(TextStage), "text")
    manager.register(Observer(), "observer")
    manager.register(Wrapper(), "wrapper")
    Pipeline.build(Settings(), manager).process(Article(id="w", text="x"))
    assert calls == ["before w", "observe w", "after w"]


def test_hook_document_finished_runs_observers_in_pluggy_order() -> None:
    calls: list[str] = []

    def observer(label: str, **marks: bool) -> object:
        class Observer:
            @hookimpl(**marks)
            def document_finished(self, document, settings):  # type: ignore[no-untyped-def]
                calls.append(label)
        return Observer()

    manager = PluginManager(load=[])
    manager.register(Plugin(TextStage), "text")
    manager.register(observer("last", trylast=True), "a")
    manager.register(observer("first", tryfirst=True), "b")
    manager.register(observer("plain-1"), "c")
    manager.register(observer("plain-2"), "d")
    Pipeline.build(Settings(), manager).process(Article(text="x"))
    assert calls == ["first", "plain-2", "plain-1", "last"]


def test_hook_document_finished_is_traced(capsys: pytest.CaptureFixture[str]) -> None:
    class Observer:
        @hookimpl
        def document_finished(self, document, settings):  # type: ignore[no-untyped-def]
            return None

    configure_logging("json", "INFO")
    try:
        manager = PluginManager(load=[], trace=True)
        manager.register(Plugin(TextStage), "text")
        manager.register(Observer(), "observer")
        Pipeline.build(Settings(), manager).process(Article(id="traced", text="x"))
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()
                 if line.startswith("{")]
    finally:
        configure_logging("console", "WARNING")
    call = next(line for line in lines
                if line["event"] == "hook call" and line["hook"] == "document_finished")
    assert call["plugins"] == ["observer"] and "traced" in call["arguments"]["document"]


def test_observer_that_raises_is_named_and_the_other_observers_still_run_once(
        capsys: pytest.CaptureFixture[str]) -> None:
    calls: list[str] = []

    def observer(label: str, fail: bool = False) -> object:
        class Observer:
            @hookimpl
            def document_finished(self, document, settings):  # type: ignore[no-untyped-def]
                calls.append(label)
                if fail:
                    raise RuntimeError("sink down")
        return Observer()

    configure_logging("json", "INFO")
    try:
        manager = PluginManager(load=[])
        manager.register(Plugin(TextStage), "text")
        manager.register(observer("runs-last"), "a")
        manager.register(observer("raises", fail=True), "sink")
        manager.register(observer("runs-first"), "c")
        doc = Pipeline.build(Settings(), manager).process(Article(id="d1", text="x"))
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()
                 if line.startswith("{")]
    finally:
        configure_logging("console", "WARNING")
    assert doc.status == "done"
    assert calls == ["runs-first", "raises", "runs-last"]
    failure = next(line for line in lines if line["event"] == "document_finished hook failed")
    assert (failure["plugin"], failure["document_id"]) == ("sink", "d1")
    assert failure["error"] == "RuntimeError: sink down"


def test_observer_that_raises_does_not_fail_the_document() -> None:
    class Broken:
        @hookimpl
        def document_finished(self, document, settings):  # type: ignore[no-untyped-def]
            raise RuntimeError("sink down")

    manager = PluginManager(load=[])
    manager.register(Plugin(TextStage), "text")
    manager.register(Broken(), "sink")
    doc = Pipeline.build(Settings(), manager).process(Article(text="x"))
    assert doc.status == "done"


def test_register_stages_that_raises_marks_only_that_plugin_broken() -> None:
    class Raises:
        @hookimpl
        def register_stages(self):  # type: ignore[no-untyped-def]
            raise ImportError("needs torch")

    manager = PluginManager(load=[])
    manager.register(Raises(), "heavy")
    manager.register(Plugin(TextStage), "text")
    assert [e.stage.name for e in manager.stages()] == ["strip"]
    assert manager.broken[0].name == "heavy" and "needs torch" in manager.broken[0].error


def test_malformed_stage_declaration_is_reported_by_plugin_name() -> None:
    class NoName(TextStage):
        name = "has space"

    manager = PluginManager(load=[])
    manager.register(Plugin(NoName), "sloppy")
    assert manager.stages() == []
    assert "sloppy" in [b.name for b in manager.broken]
    assert "identifier" in manager.broken[0].error


def test_allow_list_loads_only_the_named_plugins() -> None:
    manager = PluginManager(load=["cleaning"])
    manager.load_entry_points()
    assert set(manager.info) <= {"cleaning"}


def test_allow_list_naming_an_uninstalled_plugin_reports_it() -> None:
    manager = PluginManager(load=["no_such_plugin"])
    manager.load_entry_points()
    assert [b.name for b in manager.broken] == ["no_such_plugin"]


def test_trace_logs_every_hook_call_with_arguments_and_result(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json", "INFO")
    manager = PluginManager(load=[], trace=True)
    manager.register(Plugin(TextStage), "text")
    manager.stages()
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    events = [(line["event"], line.get("hook")) for line in lines]
    assert ("hook call", "register_stages") in events
    result = next(line for line in lines if line["event"] == "hook result")
    assert "TextStage" in result["result"]
    configure_logging("console", "WARNING")


def test_required_stage_from_a_broken_plugin_is_a_build_error() -> None:
    class Raises:
        @hookimpl
        def register_stages(self):  # type: ignore[no-untyped-def]
            raise ImportError("needs torch")

    manager = PluginManager(load=[])
    manager.register(Raises(), "ner_plugin")
    with pytest.raises(PipelineError, match="required stage 'ner'.*ner_plugin.*needs torch"):
        Pipeline.build(Settings(pipeline={"required": ["ner"]}), manager)


# -- installed third-party plugins, from fixture directories with their own pyproject ------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with the fixture plugins pip-installed into it (real entry points)."""
    target = tmp_path_factory.mktemp("site")
    sources = tmp_path_factory.mktemp("sources")  # pip builds in the folder: copies, not ours
    for path in (EXAMPLE, FIXTURES / "copydesk_broken_import", FIXTURES / "copydesk_bad_stage"):
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
             "--no-build-isolation", "--target", str(target),
             str(copy_project(path, sources / path.name))],
            check=True, capture_output=True,
        )
    return target


def copydesk(site: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    import os

    env = {**os.environ, "PYTHONPATH": str(site), "COPYDESK_PIPELINE__STAGES": "",
           "COPYDESK_LOAD_PLUGINS": "readtime,broken_import,bad_stage,cleaning"}
    env.pop("COPYDESK_PIPELINE__STAGES")
    return subprocess.run([sys.executable, "-m", "copydesk.cli", *args], env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_installed_external_plugin_is_listed_with_its_stage(site: Path) -> None:
    out = copydesk(site, "plugins", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    readtime = next(p for p in data["plugins"] if p["name"] == "readtime")
    assert readtime["version"] == "1.2.0"
    assert readtime["stages"][0]["name"] == "readtime"
    assert readtime["stages"][0]["requires"] == ["text"]
    assert "readtime" in data["order"]


@pytest.mark.slow
def test_installed_external_plugin_runs_as_a_stage(site: Path) -> None:
    out = copydesk(site, "process", "-", stdin='{"id": "s1", "text": "Talks resume on Monday."}\n')
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["extensions"]["readtime"] == {"words": 4, "minutes": 0.0, "long_sentences": []}
    assert any(r["stage"] == "readtime" and r["plugin"] == "readtime" for r in doc["runs"])


@pytest.mark.slow
def test_broken_plugins_are_named_and_skipped_not_fatal(site: Path) -> None:
    out = copydesk(site, "plugins", "--json")
    assert out.returncode == 0
    broken = {b["name"]: b["error"] for b in json.loads(out.stdout)["broken"]}
    assert "a_module_that_does_not_exist" in broken["broken_import"]
    assert "bad stage declaration" in broken["bad_stage"]


@pytest.mark.slow
def test_schema_includes_the_layer_of_an_installed_plugin(site: Path) -> None:
    out = copydesk(site, "schema")
    assert out.returncode == 0, out.stderr
    schema = json.loads(out.stdout)
    assert "ReadtimeLayer" in schema["$defs"] and "LongSentence" in schema["$defs"]
    assert "long_sentences" in schema["$defs"]["ReadtimeLayer"]["properties"]


@pytest.mark.slow
def test_example_plugin_tests_pass_against_the_installed_plugin(site: Path, tmp_path: Path) -> None:
    import os

    env = {**os.environ, "PYTHONPATH": str(site)}
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          str(EXAMPLE)], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert " passed" in out.stdout and "failed" not in out.stdout


def test_check_names_a_stage_whose_setup_fails() -> None:
    from copydesk import Stage
    from copydesk.cli.plugin_report import check

    class NeedsWeights(Stage):
        name = "weights"
        requires = ("text",)
        provides = ("tone",)

        def setup(self) -> None:
            raise FileNotFoundError("tone-weights.bin")

        def process(self, doc) -> None:  # type: ignore[no-untyped-def]
            pass

    manager = PluginManager(load=[])
    manager.register(Plugin(TextStage, NeedsWeights), "tone")
    assert check(manager, Settings()) == [
        "stage 'weights' (plugin 'tone') cannot start: setup() raised "
        "FileNotFoundError: tone-weights.bin"]


def test_check_is_empty_for_a_pipeline_that_can_run() -> None:
    from copydesk.cli.plugin_report import check

    manager = PluginManager(load=[])
    manager.register(Plugin(TextStage, CapitalsStage), "caps")
    assert check(manager, Settings()) == []


@pytest.mark.slow
def test_plugins_check_exits_non_zero_naming_each_broken_plugin(site: Path) -> None:
    out = copydesk(site, "plugins", "--check")
    assert out.returncode == 1
    assert "plugin 'broken_import' is broken: import failed: ModuleNotFoundError" in out.stderr
    assert "plugin 'bad_stage' is broken: bad stage declaration" in out.stderr


@pytest.mark.slow
def test_plugins_check_passes_with_an_installed_working_third_party_plugin(site: Path) -> None:
    import os

    env = {**os.environ, "PYTHONPATH": str(site), "COPYDESK_LOAD_PLUGINS": "readtime,cleaning"}
    out = subprocess.run([sys.executable, "-m", "copydesk.cli", "plugins", "--check"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "readtime" in out.stdout


def _csv_sink_plugin(written: list[str]):  # type: ignore[no-untyped-def]
    """A third party's sink, as the ``register_sinks`` docstring shows it."""
    from copydesk.sinks import Sink, SinkConfig

    class CsvConfig(SinkConfig):
        path: Path

    class CsvSink(Sink[CsvConfig]):
        name = "csv"

        def write(self, documents):  # type: ignore[no-untyped-def]
            with self.config.path.open("a") as out:
                for doc in documents:
                    out.write(f"{doc.id},{len(doc.entities)}\n")
                    written.append(doc.id)
            return []

    class SinkPlugin:
        @hookimpl
        def register_sinks(self):  # type: ignore[no-untyped-def]
            return [CsvSink]

    return SinkPlugin()


def test_hook_register_sinks_contributes_a_sink_built_from_its_settings_table(
        tmp_path: Path) -> None:
    from copydesk.sinks import SinkWriter, build_sinks

    written: list[str] = []
    manager = PluginManager(load=[])
    manager.register(Plugin(TextStage), "text")
    manager.register(_csv_sink_plugin(written), "csvsink")
    assert [e.sink.name for e in manager.sinks()] == ["csv"]
    assert manager.info["csvsink"].sinks == ["csv"]
    settings = Settings(sinks={"csv": {"path": str(tmp_path / "out.csv"), "batch_size": 2}})
    docs = Pipeline.build(settings, manager).process_many(
        [Article(id=f"a{i}", text="x") for i in range(3)])
    with SinkWriter(build_sinks(["csv"], settings, manager)) as writer:
        for doc in docs:
            writer.add(doc)
        assert written == ["a0", "a1"]  # one batch of batch_size so far
        writer.flush()
    assert (tmp_path / "out.csv").read_text() == "a0,0\na1,0\na2,0\n"


def test_hook_register_sinks_a_malformed_sink_marks_its_plugin_broken() -> None:
    class NotASink:
        name = "nope"

    class BadPlugin:
        @hookimpl
        def register_sinks(self):  # type: ignore[no-untyped-def]
            return [NotASink]

    manager = PluginManager(load=[])
    manager.register(BadPlugin(), "bad")
    assert manager.sinks() == []
    assert [b.name for b in manager.broken] == ["bad"]
    assert "is not a subclass of copydesk.sinks.Sink" in manager.broken[0].error


def test_a_plugin_importing_the_old_core_module_is_reported_with_the_new_name(
        tmp_path: Path) -> None:
    import os

    install_fixture_plugin(tmp_path, FIXTURES / "copydesk_old_imports")
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPYDESK_")}
    env |= {"PYTHONPATH": str(tmp_path), "COPYDESK_LOAD_PLUGINS": "old_imports"}
    out = subprocess.run([sys.executable, "-m", "copydesk.cli", "plugins", "--json"], env=env,
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    [broken] = json.loads(out.stdout)["broken"]
    assert broken["name"] == "old_imports"
    assert "No module named 'core'" in broken["error"]
    assert "import 'copydesk' instead" in broken["error"]
    assert "docs/migrating.md" in broken["error"]
