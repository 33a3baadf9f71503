"""A plugin author's ``mypy --strict`` finds the typed ``copydesk`` that the README's editable
install (``pip install -e .``) puts in a virtual environment: the example plugin and a
scaffolded one pass with no setup beyond that install."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.helpers import copy_project

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "copydesk_readtime"

pytestmark = pytest.mark.slow


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("COPYDESK_", "PYTHONPATH", "MYPYPATH", "VIRTUAL_ENV"))}
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=900)


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with a copy of this clone installed by ``pip install -e``.
    Its dependencies (and pip, setuptools, mypy) are the test environment's, seen through a
    plain path line, so nothing is downloaded and the test environment's own copydesk (whose
    ``.pth`` files that line does not run) is not visible in it."""
    root = tmp_path_factory.mktemp("readme-install")
    source = copy_project(REPO, root / "clone")
    env = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    python = env / "bin" / "python"
    purelib = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                  cwd=root).stdout.strip()
    (Path(purelib) / "_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = run(python, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--no-index", "-e", source, cwd=root)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    where = run(python, "-c", "import copydesk; print(copydesk.__file__)", cwd=root)
    assert Path(where.stdout.strip()).is_relative_to(source), where.stdout + where.stderr
    return python


def mypy_strict(python: Path, cwd: Path, target: str) -> subprocess.CompletedProcess[str]:
    """``mypy --strict TARGET`` (a plugin's folder: its package and its tests), run where no
    configuration file of this repository applies, with a cache of its own."""
    return run(python, "-m", "mypy", "--strict", "--cache-dir", cwd / ".mypy_cache", target,
               cwd=cwd)


def test_the_example_plugin_passes_mypy_strict_after_the_readme_install(
        venv: Path, tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "examples" / "copydesk_readtime",
                    ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__",
                                                  ".mypy_cache"))
    checked = mypy_strict(venv, tmp_path, "examples/copydesk_readtime")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Success: no issues found in 2 source files" in checked.stdout  # package and tests
    assert "type: ignore" not in (EXAMPLE / "copydesk_readtime" / "__init__.py").read_text()


def test_a_scaffolded_plugin_passes_mypy_strict_after_the_readme_install(
        venv: Path, tmp_path: Path) -> None:
    made = run(venv, "-m", "copydesk.cli", "plugin", "new", "tonecheck", "--dir", tmp_path,
               cwd=tmp_path)
    assert made.returncode == 0, made.stdout + made.stderr
    checked = mypy_strict(venv, tmp_path, "tonecheck")
    assert checked.returncode == 0, checked.stdout + checked.stderr
