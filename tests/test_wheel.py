"""The built wheel, installed in a fresh virtual environment, is a working copydesk."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.helpers import copy_project

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "examples" / "istanbul-peace-talks.txt"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # built from a copy: a build writes build/ and copydesk.egg-info where it runs
    source = copy_project(REPO, tmp_path_factory.mktemp("source") / "copydesk")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "--wheel-dir", str(out), str(source)],
                   check=True, capture_output=True, timeout=600)
    [built] = out.glob("copydesk-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel and its dependencies installed (pip takes
    the dependencies from its configured indexes and cache; copydesk only from the wheel)."""
    env = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True, timeout=300)
    done = subprocess.run([str(env / "bin" / "python"), "-m", "pip", "install", "--quiet",
                           str(wheel)], capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    return env


def outside(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a command of the venv from a directory outside the repository."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("COPYDESK_", "PYTHONPATH", "VIRTUAL_ENV"))}
    return subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


def test_the_wheel_carries_every_file_of_the_package(wheel: Path) -> None:
    tracked = subprocess.run(["git", "ls-files", "core", "plugins", "workers"], cwd=REPO,
                             capture_output=True, text=True, check=True).stdout.split()
    expected = set()
    for path in tracked:
        if (REPO / path).is_symlink() or not (REPO / path).is_file():
            continue
        top, _, rest = path.partition("/")
        expected.add(f"copydesk/{rest}" if top == "core" else f"copydesk/{top}/{rest}")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert sorted(expected - names) == []


def test_copydesk_process_runs_from_the_wheel(venv: Path, tmp_path: Path) -> None:
    out = outside(venv, str(venv / "bin" / "copydesk"), "process", str(SAMPLE), "--format",
                  "json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["status"] == "done"
    assert [(r["stage"], r["status"]) for r in doc["runs"]] == [
        ("cleaning", "ok"), ("entities", "ok"), ("reuse", "ok"), ("numbers", "ok"),
        ("quotes", "ok"), ("stories", "ok"), ("summary", "ok")]
    assert doc["entities"] and doc["numbers"] and doc["quotes"] and doc["summary"]


def test_copydesk_imports_from_the_wheel_and_the_old_names_do_not(venv: Path,
                                                                  tmp_path: Path) -> None:
    python = str(venv / "bin" / "python")
    found = outside(venv, python, "-c", "import copydesk, copydesk.testing; "
                    "print(copydesk.__file__)", cwd=tmp_path)
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip().startswith(str(venv))
    for old in ("core", "plugins", "workers"):
        gone = outside(venv, python, "-c", f"import {old}", cwd=tmp_path)
        assert f"ModuleNotFoundError: No module named '{old}'" in gone.stderr, old


def test_the_wheel_is_typed_and_lists_its_plugins(venv: Path, tmp_path: Path) -> None:
    python = str(venv / "bin" / "python")
    typed = outside(venv, python, "-c", "import importlib.resources as r; "
                    "print(r.files('copydesk').joinpath('py.typed').is_file())", cwd=tmp_path)
    assert typed.stdout.strip() == "True", typed.stderr
    listed = outside(venv, str(venv / "bin" / "copydesk"), "plugins", "--json", cwd=tmp_path)
    data = json.loads(listed.stdout)
    assert {p["name"] for p in data["plugins"]} >= {
        "cleaning", "entities", "numbers", "quotes", "summary", "queue"}
    assert data["broken"] == []
