"""The layering DESIGN.md promises: core imports without the queue, plugins only use core."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BLOCK_QUEUE = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {'celery', 'kombu', 'redis'} or name.startswith('copydesk.workers'):
            raise ImportError(f'{name} is blocked for this test')
        return None
sys.meta_path.insert(0, Block())
"""


def test_core_and_its_cli_work_without_celery_or_redis_installed() -> None:
    code = BLOCK_QUEUE + (
        "from copydesk import Article, Pipeline\n"
        "import copydesk.cli\n"
        "doc = Pipeline.build().process(Article(text='Putin spoke in Kyiv on Monday.'))\n"
        "print(doc.status, sorted(copydesk.cli.cli.commands))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("done")
    assert "process" in out.stdout and "worker" not in out.stdout


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_core_imports_nothing_of_plugins_or_workers() -> None:
    for path in (ROOT / "core").glob("*.py"):
        bad = {n for n in imported_packages(path)
               if n.startswith(("copydesk.plugins", "copydesk.workers"))}
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_each_plugin_imports_only_core_and_itself() -> None:
    for package in (ROOT / "plugins").iterdir():
        if not package.is_dir() or package.name.startswith("_"):
            continue
        for path in package.rglob("*.py"):
            for name in imported_packages(path):
                parts = name.split(".")
                if parts[:2] == ["copydesk", "workers"] or (
                        parts[:2] == ["copydesk", "plugins"] and parts[2:3] != [package.name]):
                    raise AssertionError(f"{path.relative_to(ROOT)} imports {name}")
