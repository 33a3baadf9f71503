"""The plugin scaffold behind ``copydesk plugin new NAME``: a ready, tested package.

It writes ``NAME/`` with a ``pyproject.toml`` carrying the ``copydesk`` entry point, a
stage with a config and a typed layer, tests that use ``copydesk.testing``, and a
README. ``pip install -e ./NAME && pytest ./NAME`` passes as generated. The templates
are the ``*.j2`` files beside this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,40}$")

#: Template -> path in the generated package (``{module}`` is the import name).
FILES: dict[str, str] = {
    "pyproject.toml.j2": "pyproject.toml",
    "README.md.j2": "README.md",
    "gitignore.j2": ".gitignore",
    "plugin.py.j2": "{module}/__init__.py",
    "test_plugin.py.j2": "tests/test_{stage}.py",
}


class ScaffoldError(ValueError):
    """The package cannot be generated as asked; the message says why."""


@dataclass(frozen=True)
class PluginNames:
    """The names one plugin is known by, all derived from the name given."""

    name: str  # as given: the directory and the distribution's suffix
    stage: str  # the stage, the entry point and the settings section
    module: str  # the import package
    dist: str  # the distribution on PyPI
    camel: str  # prefix of the class names

    @classmethod
    def of(cls, name: str) -> PluginNames:
        if not NAME_RE.match(name) or name.endswith(("-", "_")):
            raise ScaffoldError(
                f"{name!r} is not a usable plugin name: use lower-case letters, digits, "
                "'_' or '-', starting with a letter (e.g. tonecheck, bias_meter)")
        stage = name.replace("-", "_")
        return cls(name=name, stage=stage, module=f"copydesk_{stage}",
                   dist=f"copydesk-{name.replace('_', '-')}",
                   camel="".join(part.capitalize() for part in stage.split("_")))


def render(names: PluginNames, copydesk_version: str) -> dict[str, str]:
    """The generated files, by path relative to the package directory."""
    env = Environment(loader=FileSystemLoader(Path(__file__).parent), undefined=StrictUndefined,
                      keep_trailing_newline=True, autoescape=False)
    values = {"name": names.name, "stage": names.stage, "module": names.module,
              "dist": names.dist, "camel": names.camel, "copydesk_version": copydesk_version}
    files = {
        path.format(module=names.module, stage=names.stage):
            env.get_template(template).render(**values)
        for template, path in FILES.items()
    }
    files[f"{names.module}/py.typed"] = ""
    return files


def create(name: str, parent: Path, copydesk_version: str,
           taken: dict[str, str] | None = None) -> Path:
    """Write the package for ``name`` under ``parent``; return its directory.

    ``taken`` maps installed stage names to their plugins: a name already in use is
    refused, as the plugin would be skipped as a clash once installed.
    """
    names = PluginNames.of(name)
    if taken and names.stage in taken:
        raise ScaffoldError(f"a stage named {names.stage!r} is already installed (plugin "
                            f"{taken[names.stage]!r}); choose another name")
    target = parent / names.name
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ScaffoldError(f"{target} already exists and is not empty; nothing written")
    for path, text in render(names, copydesk_version).items():
        out = target / path
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    return target
