"""The habits CI enforces: lint and types before tests, the README's command, true paths."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
CI = (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def readme_test_command() -> str:
    blocks = re.findall(r"```sh\n(.*?)```", README, flags=re.S)
    return next(line for b in blocks for line in b.splitlines() if "-m pytest" in line)


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    assert readme_test_command() in CI.splitlines()


def test_ci_runs_ruff_and_mypy_before_the_tests() -> None:
    lines = CI.splitlines()
    tests_at = lines.index(readme_test_command())
    ruff_at = next(i for i, line in enumerate(lines) if line.startswith(".venv/bin/ruff check"))
    mypy_at = next(i for i, line in enumerate(lines) if "scripts/mypy" in line
                   and not line.startswith("#") and not line.startswith("echo"))
    assert ruff_at < tests_at and mypy_at < tests_at
    assert "set -euo pipefail" in CI  # so either failing stops the run


def test_mypy_is_strict_for_core_and_relaxed_only_for_plugins_and_workers() -> None:
    import tomllib

    overrides = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["overrides"]
    strict = next(o for o in overrides if "copydesk.*" in o["module"])
    assert strict["disallow_untyped_defs"] and strict["warn_return_any"]
    relaxed = [m for o in overrides if o is not strict for m in o["module"]]
    assert sorted(relaxed) == ["copydesk.plugins.*", "copydesk.workers.*"]


def test_every_repository_path_the_readme_names_exists() -> None:
    named = re.findall(r"(?<![\w/.-])((?:core|plugins|workers|examples|docs|bench|tests|"
                       r"deploy|scripts|\.ci)/[\w./-]*\w)", README)
    named += [m for m in re.findall(r"\]\(([^)#:]+)\)", README)]
    # "docs/s" is the benchmark unit (documents per second), not a path
    missing = sorted({p for p in named if p != "docs/s" and not (ROOT / p).exists()})
    assert named and not missing, missing
