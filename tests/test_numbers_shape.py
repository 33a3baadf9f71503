"""The shape of the numbers plugin: small named rules, not one reader of everything.

Issue 24 cut a 2,560-line extractor whose numeral reader had a cyclomatic complexity of
175 into a module per kind of rule; these tests keep it that way: no function above a
complexity of 40 (radon's measure) and no module above 700 lines.
"""

from __future__ import annotations

from pathlib import Path

import pytest

# radon is in the dev extras; a venv without it skips these two checks, saying so
cc_visit = pytest.importorskip("radon.complexity", reason="pip install -e '.[dev]'").cc_visit

PLUGIN = Path(__file__).resolve().parents[1] / "plugins" / "numbers"
MODULES = sorted(PLUGIN.glob("*.py"))
MAX_COMPLEXITY = 40
MAX_LINES = 700


@pytest.mark.parametrize("path", MODULES, ids=[p.name for p in MODULES])
def test_no_function_of_the_numbers_plugin_is_too_complex(path: Path) -> None:
    blocks = cc_visit(path.read_text(encoding="utf-8"))
    too_complex = {b.fullname: b.complexity for b in blocks if b.complexity > MAX_COMPLEXITY}
    assert too_complex == {}


@pytest.mark.parametrize("path", MODULES, ids=[p.name for p in MODULES])
def test_no_module_of_the_numbers_plugin_is_too_long(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_LINES
