"""Accuracy of the numbers stage per kind, beside established peers, on shared gold data.

Reads ``../shared/eval/numbers/duckling-en.jsonl`` (phrases with the value, kind, unit
and qualifier they denote) and ``quantulum3-tests.jsonl`` (sentences with every
quantity in them) and scores, in one run, copydesk's ``numbers`` stage, quantulum3
and numerizer on the same cases. Scoring follows ``../shared/eval/README.md``:

* Duckling: a case is right when some mention has the gold value; money and measures
  are compared after unit conversion (through copydesk's own unit and currency tables,
  for every system alike), durations in the gold's unit (a month is 30 days, a year 365),
  ranges by both ends, and a gold ``more_than``/``less_than`` needs a lower/upper-bound
  qualifier (at_least or more_than / at_most or less_than).
* quantulum3: every expected quantity must be found with its value and unit; a range
  is compared by its midpoint (quantulum's convention); a sentence with nothing
  expected is right when no number is reported in it (dates and times aside).

Kinds for quantulum3 cases come from the expected unit: dimensionless → cardinal,
currencies → money, percentage → percent, time units → duration, others → quantity.

Per rule: every case is also credited to the copydesk rule (``plugins/numbers/rules.py``)
whose mention was right, or else to the rule that read it wrongly ("(nothing read)"
when none did), so a rule's line says how often what it reads is right.

Both sets are development data (``../shared/eval``); the rules were written against
them, so these figures are no measure of unseen text (``--halves`` compares the odd and
even items, a consistency check only).
Run: ``.venv/bin/python bench/eval_numbers.py [--limit N] [--show-failures] [--no-peers]``.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import tempfile
import warnings
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from copydesk.plugins.numbers.currencies import currency_table  # noqa: E402
from copydesk.plugins.numbers.units import Unit, unit_table  # noqa: E402


def _shared_numbers() -> Path:
    """``shared/eval/numbers`` beside the checkout, or beside any folder above it (a git
    worktree such as ``/work/wt/<name>`` sits one level deeper than the main clone)."""
    for parent in ROOT.parents:
        candidate = parent / "shared" / "eval" / "numbers"
        if candidate.exists():
            return candidate
    return ROOT.parent / "shared" / "eval" / "numbers"


SHARED = _shared_numbers()
DURATION_SECONDS = {
    "second": 1,
    "minute": 60,
    "hour": 3600,
    "day": 86400,
    "week": 604800,
    "month": 2592000,
    "year": 31536000,
}


@dataclass
class Pred:
    """A reported quantity in a common form for scoring."""

    kind: str | None  # copydesk kind, or None for a peer that gives none
    value: float | str | None
    value_max: float | str | None = None
    unit: str | None = None  # copydesk unit code, or the peer's unit name
    qualifier: str | None = None
    si: tuple[float, str] | None = None
    rule: str | None = None  # copydesk's rule that made the mention (rules.py)


# ------------------------------------------------------------------ unit resolution


def resolve(unit_name: str | None) -> tuple[str, Any] | None:
    """A written unit name → ("currency", (code, factor)) | ("duration", seconds) |
    ("percent", None) | ("unit", Unit) | ("none", None); None when unknown."""
    if unit_name is None:
        return ("none", None)
    name = unit_name.strip()
    low = name.lower()
    if low in ("unnamed", "dimensionless", ""):
        return ("none", None)
    if low in ("percentage", "percent", "%"):
        return ("percent", None)
    if low in DURATION_SECONDS:
        return ("duration", DURATION_SECONDS[low])
    money = currency_table()
    if re.fullmatch(r"[A-Z]{3}", name):
        return ("currency", (name, 1.0))
    if low in ("pound sterling", "pounds sterling"):
        return ("currency", ("GBP", 1.0))
    minor = money.minor_factor(low)
    if minor is not None and low not in ("c", "p"):
        return ("currency", minor)
    code = money.code_for_name(low)
    if code is not None and low not in ("pound",):
        return ("currency", (code, 1.0))
    unit = unit_table().lookup_name(name)
    if unit is not None:
        return ("unit", unit)
    if low == "pound":
        return ("currency", ("GBP", 1.0))
    return None


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-4, abs_tol=1e-9)


def iso_to(value: str, unit: str) -> float | None:
    """An ISO 8601 duration in ``unit`` (months and years by the calendar when exact)."""
    match = re.fullmatch(
        r"P(?:([\d.]+)Y)?(?:([\d.]+)M)?(?:([\d.]+)W)?(?:([\d.]+)D)?"
        r"(?:T(?:([\d.]+)H)?(?:([\d.]+)M)?(?:([\d.]+)S)?)?",
        value,
    )
    if not match:
        return None
    y, mo, w, d, h, mi, s = (float(g) if g else 0.0 for g in match.groups())
    if unit in ("month", "year") and not (w or d or h or mi or s):
        months = y * 12 + mo
        return months if unit == "month" else months / 12
    seconds = (y * 365 + mo * 30 + w * 7 + d) * 86400 + h * 3600 + mi * 60 + s
    return seconds / DURATION_SECONDS[unit]


# ------------------------------------------------------------------ matching


def pred_amount(pred: Pred, target: tuple[str, Any], which: str = "value") -> float | None:
    """The prediction's value expressed in the gold's unit (None when incomparable)."""
    raw = pred.value if which == "value" else pred.value_max
    kind, info = target
    if raw is None:
        return None
    if kind == "duration":
        if isinstance(raw, str):
            return iso_to(raw, next(k for k, v in DURATION_SECONDS.items() if v == info))
        res = resolve(pred.unit) if pred.kind is None else None
        if res is not None and res[0] == "duration":
            return float(raw) * res[1] / info
        return None
    if isinstance(raw, str):
        return None
    value = float(raw)
    if kind == "none":
        return value
    if kind == "percent":
        if pred.kind == "percent" or (
            pred.kind is None and resolve(pred.unit) == ("percent", None)
        ):
            return value
        return None
    if kind == "currency":
        code, factor = info
        if pred.kind == "money" and pred.unit == code:
            return value / factor
        if pred.kind is None:
            res = resolve(pred.unit)
            if res is not None and res[0] == "currency" and res[1][0] == code:
                return value * res[1][1] / factor
        return None
    if kind == "unit":
        unit: Unit = info
        if pred.kind == "quantity" and pred.unit is not None:
            own = unit_table().units.get(pred.unit) or unit_table().lookup_name(pred.unit)
            if own is None or own.si != unit.si:
                return None
            return (own.to_si(value) - unit.offset) / unit.factor
        if pred.kind is None:
            res = resolve(pred.unit)
            if res is not None and res[0] == "unit" and res[1].si == unit.si:
                return (res[1].to_si(value) - unit.offset) / unit.factor
        return None
    return None


def kind_ok(pred: Pred, gold_kind: str, target: tuple[str, Any]) -> bool:
    if pred.kind is None:
        return True
    if target[0] == "none":
        if gold_kind == "ordinal":
            return pred.kind == "ordinal"
        if gold_kind == "money":
            return pred.kind in ("money", "cardinal")
        return pred.kind in ("cardinal", "quantity")
    return True


def qualifier_ok(pred: Pred, gold: str | None) -> bool:
    if gold in (None, "between"):
        return True
    if gold == "more_than":
        return pred.qualifier in ("more_than", "at_least")
    if gold == "less_than":
        return pred.qualifier in ("less_than", "at_most")
    return True


def duckling_match(case: dict[str, Any], preds: list[Pred]) -> Pred | None:
    """The first prediction that has the case's value (None when none has)."""
    target = resolve(case.get("unit"))
    kind = case["kind"]
    if target is None:
        return None
    for pred in preds:
        if not kind_ok(pred, kind, target) or not qualifier_ok(pred, case.get("qualifier")):
            continue
        if "low" in case:
            lo = pred_amount(pred, target)
            hi = pred_amount(pred, target, "value_max")
            if (
                lo is not None
                and hi is not None
                and close(lo, case["low"])
                and close(hi, case["high"])
            ):
                return pred
            continue
        got = pred_amount(pred, target)
        if got is not None and close(got, float(case["value"])):
            return pred
    return None


def duckling_hit(case: dict[str, Any], preds: list[Pred]) -> bool:
    return duckling_match(case, preds) is not None


def quantulum_kind(unit: str) -> str:
    res = resolve(unit)
    if res is None:
        return "quantity"
    return {
        "none": "cardinal",
        "currency": "money",
        "percent": "percent",
        "duration": "duration",
        "unit": "quantity",
    }[res[0]]


def quantulum_match(expected: dict[str, Any], preds: list[Pred]) -> Pred | None:
    """The first prediction that has the expected value and unit (None when none has)."""
    target = resolve(expected["unit"])
    if target is None:
        return None
    want = float(expected["value"])
    for pred in preds:
        if target[0] == "none":
            if pred.kind not in (None, "cardinal", "date"):
                continue
            if pred.kind == "date":
                if (
                    isinstance(pred.value, str)
                    and re.fullmatch(r"\d{4}", pred.value)
                    and close(float(pred.value), want)
                ):
                    return pred
                continue
            if pred.kind is None and resolve(pred.unit) != ("none", None):
                continue
        lo = pred_amount(pred, target)
        if lo is None:
            continue
        if pred.value_max is not None:
            hi = pred_amount(pred, target, "value_max")
            if hi is not None and close((lo + hi) / 2, want):
                return pred
        if close(lo, want):
            return pred
    return None


def quantulum_hit(expected: dict[str, Any], preds: list[Pred]) -> bool:
    return quantulum_match(expected, preds) is not None


def counts_as_number(pred: Pred) -> bool:
    return pred.kind not in ("date", "time")


# ------------------------------------------------------------------ systems


def copydesk_system() -> Callable[[list[str]], list[list[Pred]]]:
    """The numbers stage alone in a pipeline; each mention is given the name of the rule
    that made it, by reading the same text and parse again with ``extract_numbers`` (the
    Document layer carries no rule names)."""
    from copydesk import Pipeline, Settings
    from copydesk.document import Article
    from copydesk.logs import configure_logging
    from copydesk.plugins.numbers.extract import extract_numbers

    configure_logging(level="WARNING")
    pipeline = Pipeline.build(
        Settings(pipeline={"stages": ["numbers"]}, log_level="WARNING")  # type: ignore[arg-type]
    )
    pipeline.setup()

    def run(texts: list[str]) -> list[list[Pred]]:
        docs = pipeline.process_many([Article(text=t) for t in texts])
        out = []
        for doc in docs:
            records = extract_numbers(doc.text, parse=pipeline.services.parse(doc))
            rules = {(r["start"], r["end"], r["kind"]): r["rule"] for r in records}
            preds = []
            for m in doc.numbers:
                si = (m.normalized.value, m.normalized.unit) if m.normalized else None
                rule = rules.get((m.start, m.end, m.kind))
                preds.append(Pred(m.kind, m.value, m.value_max, m.unit, m.qualifier, si, rule))
            out.append(preds)
        return out

    return run


def quantulum_system() -> Callable[[list[str]], list[list[Pred]]] | None:
    try:
        warnings.simplefilter("ignore")
        from quantulum3 import classifier as clf
        from quantulum3 import parser
    except ImportError:
        return None
    classifier_path: str | None = None
    try:
        clf.classifier()
    except Exception:  # the shipped model does not load with this scikit-learn: retrain
        classifier_path = str(Path(tempfile.gettempdir()) / "copydesk-quantulum3-clf.joblib")
        if not Path(classifier_path).exists():
            try:
                clf.train_classifier(store=True, output_path=classifier_path, n_jobs=1)
            except Exception:
                clf.USE_CLF = False
                classifier_path = None

    def run(texts: list[str]) -> list[list[Pred]]:
        out = []
        for text in texts:
            preds = []
            try:
                quantities = parser.parse(text, classifier_path=classifier_path)
            except Exception:
                quantities = []
            for q in quantities:
                unit = q.unit.name
                if q.uncertainty:
                    preds.append(Pred(None, q.value - q.uncertainty, q.value + q.uncertainty, unit))
                preds.append(Pred(None, q.value, None, unit))
            out.append(preds)
        return out

    return run


def numerizer_system() -> Callable[[list[str]], list[list[Pred]]] | None:
    try:
        from numerizer import numerize
    except ImportError:
        return None
    number = re.compile(r"-?\d+(?:,\d{3})*(?:\.\d+)?")

    def run(texts: list[str]) -> list[list[Pred]]:
        out = []
        for text in texts:
            try:
                result = numerize(text)
            except Exception:
                result = text
            out.append(
                [
                    Pred(None, float(m.group().replace(",", "")), None, "dimensionless")
                    for m in number.finditer(result)
                ]
            )
        return out

    return run


# ------------------------------------------------------------------ main


def load(name: str, limit: int | None, half: str | None = None) -> list[dict[str, Any]]:
    """The cases of one gold file; ``half`` keeps only the odd or the even items (1-based
    line numbers). Both halves are development data that rules were written against, so
    a gap between them says little about unseen text."""
    path = SHARED / name
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    if half is not None:
        keep = 1 if half == "odd" else 0
        rows = [row for k, row in enumerate(rows, start=1) if k % 2 == keep]
    return rows[:limit] if limit else rows


#: The "set/kind" key under which ``evaluate`` files per-rule tallies of copydesk.
RULES_KEY = "copydesk rules"


def _rule_of(match: Pred | None, got: list[Pred]) -> str:
    """The rule a case is credited to: the one that made the right mention, else the one
    that made the first mention reported (the rule that read it wrongly), else none."""
    if match is not None:
        return match.rule or "(unnamed)"
    named = [p for p in got if p.kind not in ("date", "time") or p.rule]
    return (named[0].rule or "(unnamed)") if named else "(nothing read)"


def evaluate(
    systems: dict[str, Callable[[list[str]], list[list[Pred]]]],
    limit: int | None = None,
    show_failures: bool = False,
    half: str | None = None,
) -> dict[str, dict[str, tuple[int, int]]]:
    """{system: {"set/kind": (right, total)}}, and for copydesk {RULES_KEY: {"set/rule":
    (right, total)}}: each case credited to the rule that answered it."""
    duck = load("duckling-en.jsonl", limit, half)
    quant = load("quantulum3-tests.jsonl", limit, half)
    scores: dict[str, dict[str, tuple[int, int]]] = {}
    for name, system in systems.items():
        tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        by_rule: dict[str, list[int]] = defaultdict(lambda: [0, 0])

        def count(
            key: str,
            rule_key: str,
            hit: bool,
            tally: dict[str, list[int]] = tally,
            by_rule: dict[str, list[int]] = by_rule,
        ) -> None:
            tally[key][0] += hit
            tally[key][1] += 1
            by_rule[rule_key][0] += hit
            by_rule[rule_key][1] += 1

        preds = system([c["text"] for c in duck])
        for case, got in zip(duck, preds, strict=True):
            if name == "numerizer" and case["kind"] not in ("cardinal", "ordinal"):
                continue
            match = duckling_match(case, got)
            count(f"duckling/{case['kind']}", f"duckling/{_rule_of(match, got)}", match is not None)
            if show_failures and name == "copydesk" and match is None:
                print(
                    f"  miss duckling {case['kind']}: {case['text']!r} → "
                    f"{[(p.kind, p.value, p.value_max, p.unit, p.qualifier, p.rule) for p in got]}"
                )
        preds = system([c["text"] for c in quant])
        for case, got in zip(quant, preds, strict=True):
            if case["kind"] == "spellout":
                for value in case["expected"]:
                    found = [
                        p
                        for p in got
                        if p.kind in (None, "cardinal")
                        and isinstance(p.value, int | float)
                        and close(float(p.value), float(value))
                    ]
                    match = found[0] if found else None
                    rule_key = f"quantulum3/{_rule_of(match, got)}"
                    count("quantulum3/spellout", rule_key, match is not None)
                    if show_failures and name == "copydesk" and match is None:
                        print(f"  miss spellout {value}: {case['text']!r}")
                continue
            if name == "numerizer":
                continue
            if not case["expected"]:
                wrong = [p for p in got if counts_as_number(p)]
                rule_key = f"quantulum3/{wrong[0].rule if wrong else '(nothing read)'}"
                count("quantulum3/nothing", rule_key, not wrong)
                if show_failures and name == "copydesk" and wrong:
                    print(f"  miss nothing: {case['text']!r} → {[(p.kind, p.value) for p in got]}")
                continue
            for expected in case["expected"]:
                match = quantulum_match(expected, got)
                key = f"quantulum3/{quantulum_kind(expected['unit'])}"
                count(key, f"quantulum3/{_rule_of(match, got)}", match is not None)
                if show_failures and name == "copydesk" and match is None:
                    print(
                        f"  miss {key}: {expected['surface']!r} {expected['value']} "
                        f"{expected['unit']} in {case['text'][:80]!r} → "
                        f"{[(p.kind, p.value, p.value_max, p.unit, p.rule) for p in got]}"
                    )
        scores[name] = {k: (v[0], v[1]) for k, v in tally.items()}
        if name.startswith("copydesk"):
            scores.setdefault(RULES_KEY, {})
            for key, (right, total) in by_rule.items():
                scores[RULES_KEY][key] = (right, total)
    return scores


def print_table(scores: dict[str, dict[str, tuple[int, int]]]) -> None:
    """Accuracy per set and kind, one column per system; then copydesk's per rule."""
    rules = scores.pop(RULES_KEY, None)
    keys = sorted({k for s in scores.values() for k in s})
    names = list(scores)
    print(f"{'set/kind':28}" + "".join(f"{n:>18}" for n in names))
    for key in keys:
        row = f"{key:28}"
        for name in names:
            got = scores[name].get(key)
            row += (
                f"{'n/a':>18}" if got is None else f"{got[0]:>6}/{got[1]:<4} {got[0] / got[1]:6.1%}"
            )
        print(row)
    for prefix in ("duckling", "quantulum3"):
        row = f"{prefix + ' (all)':28}"
        for name in names:
            parts = [v for k, v in scores[name].items() if k.startswith(prefix)]
            right, total = sum(p[0] for p in parts), sum(p[1] for p in parts)
            row += f"{'n/a':>18}" if not total else f"{right:>6}/{total:<4} {right / total:6.1%}"
        print(row)
    if rules:
        print_rules(rules)


def print_rules(rules: dict[str, tuple[int, int]]) -> None:
    """copydesk per rule: each case is credited to the rule whose mention was right, or
    else to the rule that read it wrongly ("(nothing read)" when no rule did)."""
    from copydesk.plugins.numbers.rules import RULE_NAMES

    names = sorted({k.split("/", 1)[1] for k in rules}, key=_rule_order(RULE_NAMES))
    print()
    print(f"{'copydesk rule':32}{'duckling':>18}{'quantulum3':>18}")
    for rule in names:
        row = f"{rule:32}"
        for prefix in ("duckling", "quantulum3"):
            got = rules.get(f"{prefix}/{rule}")
            row += f"{'':>18}" if got is None else f"{got[0]:>6}/{got[1]:<4} {got[0] / got[1]:6.1%}"
        print(row)


def _rule_order(declared: tuple[str, ...]) -> Callable[[str], tuple[int, str]]:
    def key(rule: str) -> tuple[int, str]:
        return (declared.index(rule) if rule in declared else len(declared), rule)

    return key


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--limit", type=int, default=None, help="only the first N cases of each set"
    )
    parser.add_argument("--show-failures", action="store_true", help="list copydesk's misses")
    parser.add_argument("--no-peers", action="store_true", help="score copydesk alone")
    parser.add_argument(
        "--halves",
        action="store_true",
        help=(
            "score copydesk on the odd and on the even items apart: a check of consistency "
            "between the halves, not of generalization (the rules were written against both "
            "halves; only the held-out set kept apart from ../shared measures that)"
        ),
    )
    args = parser.parse_args(argv)
    if not SHARED.exists():
        print(f"{SHARED} is not available", file=sys.stderr)
        return 1
    systems: dict[str, Callable[[list[str]], list[list[Pred]]]] = {"copydesk": copydesk_system()}
    if args.halves:
        halves = {
            f"copydesk/{half}": evaluate(systems, args.limit, args.show_failures, half)["copydesk"]
            for half in ("odd", "even")
        }
        print_table(halves)
        return 0
    if not args.no_peers:
        for name, factory in (("quantulum3", quantulum_system), ("numerizer", numerizer_system)):
            system = factory()
            if system is None:
                print(f"({name} is not installed: pip install -e '.[bench]')")
            else:
                systems[name] = system
    scores = evaluate(systems, args.limit, args.show_failures)
    print_table(scores)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
