"""A plugin author's failed stage: the traceback, with file and line, where they look."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import install_fixture_plugin

FIXTURE = Path(__file__).parent / "fixtures" / "copydesk_raising_stage"
PLUGIN_FILE = "copydesk_raising_stage/__init__.py"
ARTICLE = '{"id": "t-1", "text": "Erdogan spoke on Monday."}\n'


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("site")
    install_fixture_plugin(root, FIXTURE)
    return root


def bug_line() -> int:
    lines = (FIXTURE / PLUGIN_FILE).read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if "speaker.gender" in line)


def copydesk(site: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("COPYDESK_")}
    base |= {"PYTHONPATH": str(site), "COPYDESK_LOAD_PLUGINS": "raising_stage",
             "COPYDESK_PIPELINE__STAGES": "tone", **env}
    return subprocess.run([sys.executable, "-m", "copydesk.cli", *args], env=base,
                          input=ARTICLE, capture_output=True, text=True, timeout=120)


def test_process_debug_prints_the_traceback_with_the_plugin_file_and_line(site: Path) -> None:
    out = copydesk(site, "process", "--debug", "-")
    assert out.returncode == 0, out.stderr  # the stage is not required: the document is done
    assert f'{PLUGIN_FILE}", line {bug_line()}, in score' in out.stderr
    assert "AttributeError: 'Speaker' object has no attribute 'gender'" in out.stderr
    assert "stage 'tone' (plugin 'raising_stage') failed on t-1" in out.stderr


def test_copydesk_debug_variable_prints_the_traceback_too(site: Path) -> None:
    out = copydesk(site, "process", "-", COPYDESK_DEBUG="1")
    assert f'{PLUGIN_FILE}", line {bug_line()}, in score' in out.stderr


def test_without_debug_a_failure_says_how_to_see_the_traceback(site: Path) -> None:
    out = copydesk(site, "process", "-")
    assert "Traceback" not in out.stderr
    assert "run with --debug (or COPYDESK_DEBUG=1)" in out.stderr
    assert "AttributeError" in out.stderr  # the one-line reason is still logged


def test_debug_log_level_logs_the_traceback(site: Path) -> None:
    out = copydesk(site, "--log-level", "DEBUG", "--log-format", "json", "process", "-")
    assert "stage traceback" in out.stderr and f"line {bug_line()}, in score" in out.stderr


def test_traceback_is_not_in_the_document_json(site: Path) -> None:
    out = copydesk(site, "process", "--debug", "-")
    assert "Traceback" not in out.stdout and '"traceback"' not in out.stdout
