"""The layering DESIGN.md promises, checked module by module on the whole package.

Floors, from the bottom: the engine (the ``copydesk`` modules themselves) imports nothing of
ours above it; plugins and views import the engine only (a plugin also itself); the queue
side imports the engine; the worker the queue side and the engine; the gateway the queue
side, the views and the engine; the command line anything. Every import that runs counts:
at the top of a module, inside a function, and a module named by a string (``"pkg.mod:attr"``
as Celery and kombu take them, ``import_module("pkg.mod")``, ``sys.modules["pkg.mod"]``,
``PackageLoader("pkg")``); only those under ``if TYPE_CHECKING:`` do not. No import cycle either.

The modules are found by walking ``core/`` (``plugins`` and ``workers`` are symlinks into it),
so a new module or room is checked without editing a list; a room the floor table does not
know fails the test until it is given a floor.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "core"

#: (module prefix, floor), the longest matching prefix wins.
FLOOR_OF = (
    ("copydesk", "engine"),
    ("copydesk.views", "views"),
    ("copydesk.cli", "cli"),
    ("copydesk.plugins", "plugins"),
    ("copydesk.workers", "queue"),  # the package's own __init__ and the Client's old name
    ("copydesk.workers.queue", "queue"),
    ("copydesk.workers.worker", "worker"),
    ("copydesk.workers.gateway", "gateway"),
    ("copydesk.workers.commands", "cli"),
    ("copydesk.workers.plugin", "cli"),
)

#: The floors each floor may import (besides its own).
MAY_IMPORT = {
    "engine": set(),
    "views": {"engine"},
    "plugins": {"engine"},
    "queue": {"engine"},
    "worker": {"queue", "engine"},
    "gateway": {"queue", "views", "engine"},
    "cli": {"engine", "views", "plugins", "queue", "worker", "gateway"},
}

NAMED = re.compile(r"^copydesk(\.\w+)*(:\w+)?$")
#: Calls that import the module a string names (``sys.modules.get`` finds one imported).
IMPORTING_CALLS = ("import_module", "__import__", "find_spec", "PackageLoader", "files",
                   "sys.modules.get")


def module_files() -> dict[str, Path]:
    """Every module of the package: dotted name -> file (following the symlinks)."""
    found: dict[str, Path] = {}
    paths = [Path(folder, name) for folder, _, names in os.walk(PACKAGE, followlinks=True)
             for name in names if name.endswith(".py")]
    for path in sorted(paths):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if any(p.startswith(".") or p == "__pycache__" for p in parts):
            continue
        found[".".join(["copydesk", *parts])] = path
    return found


MODULES = module_files()


def floor(module: str) -> str:
    best = max((p for p, _ in FLOOR_OF if module == p or module.startswith(p + ".")), key=len)
    return dict(FLOOR_OF)[best]


def resolve(name: str) -> str | None:
    """The module of ours that ``name`` (a module, or an attribute of one) is, if any."""
    while name:
        if name in MODULES:
            return name
        if "." not in name:
            return None
        name = name.rsplit(".", 1)[0]
    return None


def imports_of(module: str) -> Iterator[tuple[str, int]]:
    """Every module of ours that ``module`` imports, with the line, wherever it is done."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    importing = {id(arg) for call in ast.walk(tree) if isinstance(call, ast.Call)
                 and ast.unparse(call.func).endswith(IMPORTING_CALLS) for arg in call.args}
    importing |= {id(sub.slice) for sub in ast.walk(tree) if isinstance(sub, ast.Subscript)
                  and ast.unparse(sub.value) == "sys.modules"}
    typing_only = {id(inner) for block in ast.walk(tree) if isinstance(block, ast.If)
                   and ast.unparse(block.test).endswith("TYPE_CHECKING")
                   for stmt in block.body for inner in ast.walk(stmt)}
    for node in ast.walk(tree):
        if id(node) in typing_only:  # for the type checker only, never run
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            names = [f"{base}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and NAMED.match(node.value) and (":" in node.value or id(node) in importing):
            # "pkg.mod:attr" as Celery and kombu import it, or an importing call's argument
            named = node.value.partition(":")[0]
            names = [named] if named in MODULES else []
        for name in names:
            target = resolve(name)
            if target is not None and target != module:
                yield target, getattr(node, "lineno", 0)


GRAPH = {m: sorted({t for t, _ in imports_of(m)}) for m in MODULES}


def test_the_walk_finds_every_room() -> None:
    for room in ("copydesk.pipeline", "copydesk.views.html", "copydesk.cli.root",
                 "copydesk.plugins.quotes", "copydesk.workers.queue.store",
                 "copydesk.workers.worker.tasks", "copydesk.workers.gateway.app",
                 "copydesk.workers.commands.submit"):
        assert room in MODULES, room


def test_every_import_goes_down_or_across_a_floor() -> None:
    bad = []
    for module in MODULES:
        mine = floor(module)
        for target, line in imports_of(module):
            theirs = floor(target)
            if theirs == mine and mine == "plugins":
                own = module.split(".")[:3]
                if target.split(".")[:3] != own and target != "copydesk.plugins":
                    bad.append(f"{module}:{line} imports {target} (another plugin)")
            elif theirs != mine and theirs not in MAY_IMPORT[mine]:
                bad.append(f"{module}:{line} ({mine}) imports {target} ({theirs})")
    assert not bad, "\n".join(bad)


def test_no_import_cycle() -> None:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in GRAPH[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in MODULES:
        if module not in index:
            visit(module)
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_a_module_named_by_a_string_counts_as_an_import() -> None:
    assert "copydesk.workers.worker.batching" in GRAPH["copydesk.workers.worker.tasks"]


BLOCK_QUEUE = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {'celery', 'kombu', 'redis'} or name.startswith('copydesk.workers'):
            raise ImportError(f'{name} is blocked for this test')
        return None
sys.meta_path.insert(0, Block())
"""


@pytest.mark.slow
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
