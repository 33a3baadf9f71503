"""The habits CI enforces: lint and types before tests, the README's command, true paths."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
CI = (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def readme_commands() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", README, flags=re.S)
    return [line for b in blocks for line in b.splitlines()]


def readme_test_command() -> str:
    """The README's whole-suite command: the one that installs the dev extras and runs pytest."""
    [line] = [line for line in readme_commands() if "-m pytest" in line and "[dev]" in line]
    return line


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    assert readme_test_command() in CI.splitlines()


def test_the_readme_test_command_runs_the_suite_in_parallel_processes() -> None:
    command = readme_test_command()
    assert " -n " in command and "--dist loadfile" in command  # a file's fixtures set up once


def test_the_readme_names_a_fast_subset_that_leaves_out_the_slow_tests() -> None:
    assert '.venv/bin/python -m pytest -m "not slow"' in readme_commands()


def test_the_readme_test_prerequisites_name_every_package_ci_installs() -> None:
    installed = set(re.findall(r"need_apt\+=\(([\w-]+)\)", CI))
    section = README[README.index("## Two commands"):README.index("## Using it")]
    apt_line = next(line for line in section.splitlines() if "apt-get install" in line)
    assert installed and not installed - set(apt_line.replace("`", " ").split())


@pytest.mark.slow
def test_the_fast_subset_starts_no_server() -> None:
    """Nothing under integration/, multihost/, browser/ and no PostgreSQL test is selected
    by -m "not slow" (tests/conftest.py marks them)."""
    listed = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "no:cacheprovider",
         "--collect-only", "-q", "-m", "not slow", "tests/integration", "tests/multihost",
         "tests/browser", "tests/test_archive_sql.py", "tests/test_sinks.py"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert listed.returncode == 5, listed.stdout[-3000:] + listed.stderr[-3000:]  # none selected
    assert "deselected" in listed.stdout


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
    # a <placeholder> in a path (number_examples_<kind>.toml) stands for any name
    named = re.findall(r"(?<![\w/.-])((?:core|plugins|workers|examples|docs|bench|tests|"
                       r"deploy|scripts|\.ci)/[\w./<>-]*[\w>])", README)
    named += [m for m in re.findall(r"\]\(([^)#:]+)\)", README)]
    # "docs/s" is the benchmark unit (documents per second), not a path
    missing = sorted({p for p in named if p != "docs/s"
                      and not any(ROOT.glob(re.sub(r"<\w+>", "*", p)))})
    assert named and not missing, missing
