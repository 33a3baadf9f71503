"""The README's cross-article example plugin (examples/copydesk_followups), installed as a
third party would install it: its own tests pass, `process -j 2` gives what one process
gives, and it passes mypy --strict while importing only `copydesk`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "copydesk_followups"
HEADLINES = ["Flooding closes the coastal railway", "Snowfall expected across the north",
             "Coastal railway reopens after flooding", "Northern snowfall closes schools",
             "Railway flooding: what we know"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-build-isolation", "--target", str(target), str(EXAMPLE)],
                   check=True, capture_output=True)
    return target


def copydesk(site: Path, *args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(site), "COPYDESK_PIPELINE__STAGES": "followups"}
    return subprocess.run([str(Path(sys.executable).with_name("copydesk")), *args], env=env,
                          input=stdin, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_the_followups_of_two_processes_are_those_of_one(site: Path) -> None:
    lines = "".join(json.dumps({"id": f"a{i}", "title": HEADLINES[i % 5], "text": "Text."})
                    + "\n" for i in range(12))
    one = copydesk(site, "process", "--format", "jsonl", "-", stdin=lines)
    two = copydesk(site, "process", "-j", "2", "--format", "jsonl", "-", stdin=lines)
    assert one.returncode == 0 and two.returncode == 0, one.stderr + two.stderr

    def layers(out: str) -> list[list[str]]:
        return [json.loads(line)["extensions"]["followups"]["earlier"]
                for line in out.splitlines()]

    assert layers(two.stdout) == layers(one.stdout)
    assert layers(one.stdout)[2] == ["a0"]


@pytest.mark.slow
def test_the_example_plugin_tests_pass_against_the_installed_plugin(site: Path,
                                                                     tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          str(EXAMPLE)], cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(site)},
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert " passed" in out.stdout and "failed" not in out.stdout


@pytest.mark.slow
def test_the_example_plugin_passes_mypy_strict(tmp_path: Path) -> None:
    (tmp_path / "copydesk").symlink_to(REPO / "core")
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "copydesk_followups"],
        cwd=EXAMPLE, env={**os.environ, "MYPYPATH": str(tmp_path)},
        capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
