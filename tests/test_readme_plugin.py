"""The README's plugin section shows the example plugin's real code."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def example_blocks() -> dict[str, str]:
    """README code blocks that start with a `# examples/...` path comment, by that path."""
    blocks = re.findall(r"```(?:python|toml)\n# (examples/\S+)\n(.*?)```", README, flags=re.S)
    return dict(blocks)


def test_readme_shows_the_example_plugin_files_whole() -> None:
    blocks = example_blocks()
    for path in ("examples/copydesk_readtime/pyproject.toml",
                 "examples/copydesk_readtime/copydesk_readtime/__init__.py"):
        assert blocks[path] == (ROOT / path).read_text(encoding="utf-8"), path


def test_readme_shows_the_cross_article_example_whole() -> None:
    path = "examples/copydesk_followups/copydesk_followups/__init__.py"
    assert example_blocks()[path] == (ROOT / path).read_text(encoding="utf-8")
    section = README[README.index("### A stage that looks across articles"):]
    assert "cross_article = True" in section and "services.state" in section


def test_readme_test_excerpt_is_the_example_tests_verbatim() -> None:
    path = "examples/copydesk_readtime/tests/test_readtime.py"
    excerpt = example_blocks()[path]
    assert len(excerpt) > 200 and excerpt in (ROOT / path).read_text(encoding="utf-8")


def test_readme_plugin_section_uses_the_new_api() -> None:
    section = README[README.index("## Writing a plugin"):README.index("## Reprocessing")]
    for needle in ("Stage[ReadtimeConfig]", "Layer = ReadtimeLayer", "copydesk plugin new",
                   "copydesk install", "copydesk.testing", "run_stage", "layer_panel",
                   "assert_valid_document", "copydesk schema"):
        assert needle in section, needle
    assert "type: ignore" not in section
