"""Furniture rules as data: loading, validating and applying the patterns of rules.toml.

A rule is a named regular expression with a ``reason`` (what ``removed`` records) and a
``scope``:

``line``
    the whole line, normalized and stripped, matches: the line is dropped.
``inline``
    every match inside a line is cut out of it (a photo credit in a paragraph).
``block``
    the line matches and heads a list (``Tags``, ``Related``, ``Read more``): the line is
    dropped with the short, list-like lines that follow it, up to the first line that
    reads as prose.
``tail``
    the line matches and opens a closing section (comments): it is dropped with
    everything after it — but only when most of the article's prose lies before it,
    so a comment counter beside the byline never takes the article with it.

Every pattern is compiled case-insensitively and checked for nested unbounded
repetition (the shape behind catastrophic backtracking) before use; line rules are
only tried on lines up to ``MAX_LINE_RULE_CHARS`` long, which bounds their cost.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

try:  # Python 3.11+: the regex parser lives in re._parser
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - older layout
    import sre_parse

Scope = Literal["line", "inline", "block", "tail"]
SCOPES: tuple[Scope, ...] = ("line", "inline", "block", "tail")

#: The rules shipped with the plugin.
DEFAULT_RULES_FILE = Path(__file__).with_name("rules.toml")

#: Furniture is short: line/block/tail rules are not even tried on longer lines.
MAX_LINE_RULE_CHARS = 1000


class RuleError(ValueError):
    """A rules file or pattern that cannot be used; the message names the rule."""


@dataclass(frozen=True)
class Rule:
    """One furniture pattern."""

    name: str
    reason: str
    scope: Scope
    pattern: re.Pattern[str]
    source: str = ""

    def matches_line(self, line: str) -> bool:
        """True when the (normalized) line as a whole is this furniture."""
        return len(line) <= MAX_LINE_RULE_CHARS and self.pattern.fullmatch(line) is not None


def load_rules(path: Path | str, disabled: frozenset[str] = frozenset()) -> list[Rule]:
    """The rules of a TOML file (``[[rule]]`` tables), in file order."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RuleError(f"cannot read rules file {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"rules file {path} is not valid TOML: {exc}") from None
    entries = data.get("rule", [])
    if not isinstance(entries, list):
        raise RuleError(f"rules file {path}: 'rule' must be an array of tables ([[rule]])")
    rules = []
    for i, entry in enumerate(entries):
        rule = parse_rule(entry, where=f"{path.name}: rule #{i + 1}", source=str(path))
        if rule.name not in disabled:
            rules.append(rule)
    return rules


def parse_rule(entry: Any, where: str = "rule", source: str = "") -> Rule:
    """Validate one ``[[rule]]`` table and compile its pattern."""
    if not isinstance(entry, dict):
        raise RuleError(f"{where}: must be a table with name, reason, scope and pattern")
    unknown = set(entry) - {"name", "reason", "scope", "pattern", "description"}
    if unknown:
        raise RuleError(f"{where}: unknown keys {sorted(unknown)}")
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise RuleError(f"{where}: 'name' must be a non-empty string")
    where = f"{where} ({name})"
    reason = entry.get("reason", name)
    scope = entry.get("scope", "line")
    pattern = entry.get("pattern")
    if not isinstance(reason, str) or not reason:
        raise RuleError(f"{where}: 'reason' must be a non-empty string")
    if scope not in SCOPES:
        raise RuleError(f"{where}: 'scope' must be one of {', '.join(SCOPES)}, not {scope!r}")
    if not isinstance(pattern, str) or not pattern:
        raise RuleError(f"{where}: 'pattern' must be a non-empty string")
    return Rule(name=name, reason=reason, scope=scope, pattern=compile_safe(pattern, where),
                source=source)


def compile_safe(pattern: str, where: str = "pattern") -> re.Pattern[str]:
    """Compile ``pattern`` (case-insensitive) after refusing backtracking-prone shapes."""
    try:
        compiled = re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise RuleError(f"{where}: invalid regular expression: {exc}") from None
    problem = backtracking_risk(pattern)
    if problem:
        raise RuleError(f"{where}: {problem}")
    return compiled


_REPEATS = {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"}


def backtracking_risk(pattern: str) -> str | None:
    """Why ``pattern`` could backtrack catastrophically, or None.

    Refuses a repetition nested in another repetition when either of the two is
    unbounded (``*``, ``+``, ``{n,}``) and the other can repeat more than once, as in
    ``(a+)+``, ``(\\w+\\s?)*`` or ``(\\w+ ){0,20}`` — the exponential and high-degree
    polynomial shapes. Possessive repeats and atomic groups never backtrack into and
    are allowed, so ``(?:\\w++ ?)*`` passes. This is a guard, not a proof: overlapping
    alternatives inside a repeat (``(a|a)*``) are not detected, which is why line rules
    are also capped in length.
    """
    try:
        tree = sre_parse.parse(pattern, re.IGNORECASE)
    except re.error as exc:
        return f"invalid regular expression: {exc}"
    return _nested_repeat(list(tree), outer_high=1)


def _nested_repeat(items: list[Any], outer_high: int) -> str | None:
    """``outer_high``: the largest count of the enclosing repeats (1 outside any)."""
    for op, arg in items:
        name = str(op)
        if name == "ATOMIC_GROUP" or name == "POSSESSIVE_REPEAT":
            continue
        if name in _REPEATS:
            _low, high, body = arg
            if high > 1 and outer_high > 1 and sre_parse.MAXREPEAT in (high, outer_high):
                return (
                    "a repetition nested inside another one, one of them unbounded, can "
                    "backtrack catastrophically; make the inner one possessive (\\w++) "
                    "or an atomic group (?>...), or bound both"
                )
            found = _nested_repeat(list(body), max(outer_high, high))
        elif name == "SUBPATTERN":
            found = _nested_repeat(list(arg[-1]), outer_high)
        elif name == "BRANCH":
            found = None
            for branch in arg[1]:
                found = found or _nested_repeat(list(branch), outer_high)
        elif name in {"ASSERT", "ASSERT_NOT"}:
            found = _nested_repeat(list(arg[1]), outer_high)
        else:
            found = None
        if found:
            return found
    return None
