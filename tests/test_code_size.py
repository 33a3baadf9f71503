"""Small modules with one job: no function in ``core/`` or ``workers/`` above cyclomatic
complexity 30 (radon's measure), and no Python file there over 700 lines.

The plugins (``plugins/``, reached from ``core/plugins`` through a symlink) are not walked:
they are held to their own evaluations, not to this rule.
"""

from __future__ import annotations

import os
from pathlib import Path

from radon.complexity import cc_visit

ROOT = Path(__file__).resolve().parents[1]
MAX_COMPLEXITY = 30
MAX_LINES = 700


def python_files() -> list[Path]:
    """Every Python file of the engine and the workers (symlinks not followed)."""
    found = []
    for top in ("core", "workers"):
        for folder, dirs, names in os.walk(ROOT / top):
            dirs[:] = [d for d in dirs if not (Path(folder) / d).is_symlink()
                       and d != "__pycache__"]
            found += [Path(folder, n) for n in names if n.endswith(".py")]
    return sorted(found)


def test_the_walk_finds_the_engine_and_the_workers_but_not_the_plugins() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in python_files()}
    assert {"core/pipeline.py", "workers/worker/lifecycle.py"} <= names
    assert not any(n.startswith(("core/plugins/", "core/workers/")) for n in names)


def test_no_function_is_above_complexity_30() -> None:
    over = [f"{path.relative_to(ROOT)}:{block.lineno} {block.fullname} ({block.complexity})"
            for path in python_files()
            for block in cc_visit(path.read_text(encoding="utf-8"))
            if block.complexity > MAX_COMPLEXITY]
    assert not over, "\n".join(over)


def test_no_file_is_over_700_lines() -> None:
    over = [f"{path.relative_to(ROOT)} ({n} lines)" for path in python_files()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES]
    assert not over, "\n".join(over)
