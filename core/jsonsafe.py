"""JSON that every door can carry: parse without crashing, refuse what cannot be stored.

Python's ``json`` accepts things the rest of copydesk cannot carry: escapes for lone
surrogates (``"\\ud800"`` becomes a ``str`` that UTF-8 cannot encode, so Redis, pydantic's
serializer and the terminal all fail on it later), nesting deep enough to exhaust the
interpreter's stack (``RecursionError``), and the non-standard constants ``NaN`` and
``Infinity``. The helpers here turn each of those into a ``ValueError`` subclass with a
message a person can act on, at the point of entry, so one bad article is refused alone.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

#: How deep arrays and objects may nest inside an article (its ``metadata`` included).
#: CMS exports nest a few levels; pydantic's serializer gives up at 255.
MAX_DEPTH = 64

_SURROGATE = re.compile("[\ud800-\udfff]")
_JSON_SCALARS = (str, int, float, bool, type(None))


class UnsafeJSON(ValueError):
    """Input that is not JSON copydesk can carry; the message says where and why."""


class NestedTooDeep(UnsafeJSON):
    """JSON nested so deeply that parsing it would exhaust the interpreter's stack."""


def _no_constant(name: str) -> Any:
    raise UnsafeJSON(f"{name} is not a JSON number (JSON has no NaN or Infinity)")


def loads(text: str | bytes | bytearray) -> Any:
    """``json.loads``, with every failure an ``UnsafeJSON`` (never ``RecursionError``)."""
    try:
        return json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise NestedTooDeep("nested too deeply to parse (arrays or objects inside each other "
                         f"far beyond the limit of {MAX_DEPTH} levels)") from None
    except UnsafeJSON:
        raise
    except UnicodeDecodeError as exc:
        raise UnsafeJSON(f"not UTF-8 (byte {exc.start}: {exc.reason})") from None
    except ValueError as exc:
        raise UnsafeJSON(f"not valid JSON: {exc}") from None


def printable(text: str) -> str:
    """``text`` with lone surrogates written as ``\\udXXX`` escapes, safe to encode as UTF-8."""
    if not _SURROGATE.search(text):
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def surrogate_problem(text: str) -> str | None:
    """Why ``text`` cannot be encoded as UTF-8 (a lone surrogate), or None."""
    found = _SURROGATE.search(text)
    if found is None:
        return None
    return (f"holds a lone surrogate ({printable(found.group())} at character "
            f"{found.start():,}), which is not Unicode text: the producer decoded or "
            "escaped it wrongly")


def _key_path(path: str, key: object) -> str:
    name = printable(str(key))
    return f"{path}.{name}" if name.isidentifier() else f"{path}[{json.dumps(name)}]"


def short_path(path: str, limit: int = 60) -> str:
    """A JSON path cut to ``limit`` characters (a path 100,000 levels deep is no help)."""
    return path if len(path) <= limit else path[:limit] + "…"


def value_problem(value: Any, path: str = "$", max_depth: int = MAX_DEPTH,
                  strict_types: bool = True) -> str | None:
    """The first reason ``value`` cannot go into a Document, as ``why (at path)``; or None."""
    found = find_problem(value, path, max_depth, strict_types)
    if found is None:
        return None
    where, why = found
    return why if where == path else f"{why} (at {short_path(where)})"


def find_problem(value: Any, path: str = "$", max_depth: int = MAX_DEPTH,
                 strict_types: bool = True) -> tuple[str, str] | None:
    """The first reason ``value`` cannot go into a Document, as ``(path, why)``; or None.

    Walks iteratively (no recursion, so any depth is safe): lone surrogates in strings and
    keys, nesting deeper than ``max_depth``, and (``strict_types``) values JSON has no type
    for, such as sets or arbitrary objects handed to the Python client.
    """
    stack: list[tuple[Any, str, int]] = [(value, path, 0)]
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, str):
            problem = surrogate_problem(item)
            if problem:
                return where, problem
        elif isinstance(item, dict):
            if depth >= max_depth:
                return where, f"nested deeper than {max_depth} levels"
            for key, child in item.items():
                if not isinstance(key, str):
                    return where, f"key {printable(repr(key))} is not a string"
                problem = surrogate_problem(key)
                if problem:
                    return where, f"a key {problem}"
                stack.append((child, _key_path(where, key), depth + 1))
        elif isinstance(item, list | tuple):
            if depth >= max_depth:
                return where, f"nested deeper than {max_depth} levels"
            stack.extend((child, f"{where}[{i}]", depth + 1) for i, child in enumerate(item))
        elif isinstance(item, float) and not math.isfinite(item):
            return where, f"{item!r} is not a JSON number"
        elif strict_types and not isinstance(item, _JSON_SCALARS):
            return where, (f"a {type(item).__name__} is not JSON (use strings, numbers, "
                           "booleans, null, arrays and objects)")
    return None
