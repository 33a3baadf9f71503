"""Small test stages and a helper to build a pipeline from them without installed plugins."""

from __future__ import annotations

from typing import Any

from copydesk import Document, Pipeline, Settings, Stage, StageConfig, hookimpl
from copydesk.document import Entity
from copydesk.plugin_manager import PluginManager


class UpperConfig(StageConfig):
    suffix: str = ""


class TextStage(Stage[UpperConfig]):
    """Provides text: strips the raw text and appends a configurable suffix."""

    name = "strip"
    provides = ("text",)

    def process(self, doc: Document) -> None:
        doc.text = doc.raw_text.strip() + self.config.suffix


class CapitalsStage(Stage):
    """Marks every capitalised word as an entity."""

    name = "capitals"
    requires = ("text",)
    provides = ("entities",)

    def process(self, doc: Document) -> None:
        import re

        for m in re.finditer(r"\b[A-Z][a-z]+\b", doc.text):
            doc.entities.append(
                Entity(start=m.start(), end=m.end(), text=m.group(), label="MISC",
                       canonical=m.group())
            )


class CountStage(Stage):
    """Counts entities into an extension layer."""

    name = "count"
    requires = ("entities",)
    provides = ("count",)

    def process(self, doc: Document) -> None:
        doc.extensions["count"] = len(doc.entities)


class BoomStage(Stage):
    """Raises on every document whose text contains 'boom'."""

    name = "boom"
    requires = ("text",)
    provides = ("entities",)

    def process(self, doc: Document) -> None:
        if "boom" in doc.text:
            raise ValueError("boom in the text")


class BadOffsetsStage(Stage):
    name = "bad_offsets"
    requires = ("text",)
    provides = ("entities",)

    def process(self, doc: Document) -> None:
        doc.entities.append(Entity(start=0, end=3, text="xyz", label="X", canonical="xyz"))


class Plugin:
    """A plugin object contributing the given stages."""

    def __init__(self, *stages: type[Stage]) -> None:
        self.stages = list(stages)

    @hookimpl
    def register_stages(self) -> list[type[Stage]]:
        return self.stages


def build(*stages: type[Stage], **settings: Any) -> Pipeline:
    manager = PluginManager(load=[])
    manager.register(Plugin(*stages), "test")
    return Pipeline.build(Settings(**settings), manager)


def install_fixture_plugin(site: Any, fixture: Any) -> None:
    """Make a fixture plugin (``tests/fixtures/NAME``: a pyproject with a ``copydesk`` entry
    point and a package) importable and discoverable from the directory ``site``, as pip
    would: its package copied in, plus a ``.dist-info`` with the entry point. Put ``site`` on
    ``PYTHONPATH`` of the process that should see it."""
    import shutil
    import tomllib
    from pathlib import Path

    fixture, site = Path(fixture), Path(site)
    project = tomllib.loads((fixture / "pyproject.toml").read_text())["project"]
    name = project["name"]
    for package in fixture.iterdir():
        if package.is_dir() and (package / "__init__.py").exists():
            shutil.copytree(package, site / package.name, dirs_exist_ok=True)
    dist = site / f"{name.replace('-', '_')}-{project['version']}.dist-info"
    dist.mkdir(exist_ok=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\n"
                                   f"Version: {project['version']}\n")
    points = "".join(f"{k} = {v}\n" for k, v in project["entry-points"]["copydesk"].items())
    (dist / "entry_points.txt").write_text("[copydesk]\n" + points)


def copy_project(source: Any, dest: Any) -> Any:
    """A copy of the project folder ``source`` at ``dest`` (symlinks kept, no build output,
    caches or virtual environments), for pip to build from: a build writes ``build/`` and
    ``*.egg-info`` into the folder it builds, which two test processes must not share."""
    import shutil
    from pathlib import Path

    shutil.copytree(Path(source), Path(dest), symlinks=True, ignore=shutil.ignore_patterns(
        ".venv", "venv", ".git", "build", "dist", "*.egg-info", "__pycache__", ".mypy_cache",
        ".pytest_cache", ".ruff_cache", "tests", "bench"))
    return Path(dest)
