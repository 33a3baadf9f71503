"""Evaluate the entities stage on the CoNLL-2003 English development set (eng.testa).

Gold: ``../shared/eval/ner/conll2003-eng.testa`` (one token a line, IOB1 tags: an
``I-X`` continues an entity of type X, a ``B-X`` starts a new one right after another
X). Each ``-DOCSTART-`` document becomes one text: tokens joined by a space, sentences
by a newline, so every gold entity has character offsets and both systems are scored
by character spans, whatever their own tokenisation.

Systems, in the same run and on the same spaCy parse of each text:

* ``spacy``: the bare model's ``doc.ents``;
* ``copydesk``: the ``entities`` stage (trimming, filters, patterns, relabelling).

Label mapping from spaCy's OntoNotes labels to CoNLL's:

    PERSON -> PER;  GPE, LOC, FAC -> LOC;  ORG -> ORG;
    NORP, EVENT, WORK_OF_ART, LAW, LANGUAGE, PRODUCT -> MISC;
    DATE, TIME, PERCENT, MONEY, QUANTITY, ORDINAL, CARDINAL -> dropped.

Scores are entity-level precision, recall and F1: a prediction counts only when its
start, end and (mapped) type all equal a gold entity's. Run::

    .venv/bin/python bench/eval_ner.py            # the whole dev set
    .venv/bin/python bench/eval_ner.py --limit 40 # the first 40 documents
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from copydesk.document import Document  # noqa: E402
from copydesk.nlp import SharedParse  # noqa: E402
from copydesk.plugins.entities import EntitiesConfig, EntitiesStage  # noqa: E402
from copydesk.settings import DEFAULT_SPACY_MODEL  # noqa: E402
from copydesk.stage import Services  # noqa: E402

DEFAULT_GOLD = ROOT.parent / "shared" / "eval" / "ner" / "conll2003-eng.testa"

LABEL_MAP: dict[str, str] = {
    "PERSON": "PER",
    "GPE": "LOC",
    "LOC": "LOC",
    "FAC": "LOC",
    "ORG": "ORG",
    "NORP": "MISC",
    "EVENT": "MISC",
    "WORK_OF_ART": "MISC",
    "LAW": "MISC",
    "LANGUAGE": "MISC",
    "PRODUCT": "MISC",
}
TYPES = ("PER", "LOC", "ORG", "MISC")

Span = tuple[int, int, str]


@dataclass
class GoldDoc:
    """One CoNLL document as text with its gold entity spans (character offsets)."""

    index: int
    text: str
    entities: set[Span] = field(default_factory=set)


def read_conll(path: Path) -> Iterator[GoldDoc]:
    """The documents of a CoNLL-2003 file, text rebuilt from tokens, IOB1 decoded."""
    sentences: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []
    index = 0

    def finish() -> GoldDoc | None:
        nonlocal index
        if current:
            sentences.append(list(current))
            current.clear()
        if not sentences:
            return None
        doc = _build(index, sentences)
        index += 1
        sentences.clear()
        return doc

    with path.open(encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if line.startswith("-DOCSTART-"):
                done = finish()
                if done is not None:
                    yield done
                continue
            if not line.strip():
                if current:
                    sentences.append(list(current))
                    current.clear()
                continue
            parts = line.split(" ")
            current.append((parts[0], parts[-1]))
    done = finish()
    if done is not None:
        yield done


def _build(index: int, sentences: list[list[tuple[str, str]]]) -> GoldDoc:
    pieces: list[str] = []
    entities: set[Span] = set()
    offset = 0
    for s_i, sentence in enumerate(sentences):
        if s_i:
            pieces.append("\n")
            offset += 1
        open_type: str | None = None
        open_start = 0
        last_end = offset
        for t_i, (word, tag) in enumerate(sentence):
            if t_i:
                pieces.append(" ")
                offset += 1
            start, end = offset, offset + len(word)
            pieces.append(word)
            offset = end
            kind = tag[2:] if tag != "O" else None
            begins = tag.startswith("B-") or (kind is not None and kind != open_type)
            if open_type is not None and (kind is None or begins):
                entities.add((open_start, last_end, open_type))
                open_type = None
            if kind is not None and open_type is None:
                open_type, open_start = kind, start
            last_end = end
        if open_type is not None:
            entities.add((open_start, last_end, open_type))
    return GoldDoc(index=index, text="".join(pieces), entities=entities)


@dataclass
class Tally:
    """True positives, predictions and gold counts per type."""

    tp: Counter[str] = field(default_factory=Counter)
    pred: Counter[str] = field(default_factory=Counter)
    gold: Counter[str] = field(default_factory=Counter)

    def add(self, predicted: Iterable[Span], gold: set[Span]) -> None:
        predicted = set(predicted)
        for _s, _e, kind in predicted:
            self.pred[kind] += 1
        for _s, _e, kind in gold:
            self.gold[kind] += 1
        for _s, _e, kind in predicted & gold:
            self.tp[kind] += 1

    def scores(self, kind: str | None = None) -> tuple[float, float, float]:
        if kind is None:
            tp, pred, gold = (sum(c.values()) for c in (self.tp, self.pred, self.gold))
        else:
            tp, pred, gold = self.tp[kind], self.pred[kind], self.gold[kind]
        precision = tp / pred if pred else 0.0
        recall = tp / gold if gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return precision, recall, f1


def mapped(spans: Iterable[tuple[int, int, str]]) -> list[Span]:
    """Spans with OntoNotes labels mapped to CoNLL types; unmapped labels dropped."""
    return [(s, e, LABEL_MAP[label]) for s, e, label in spans if label in LABEL_MAP]


def read_golds(gold_path: Path = DEFAULT_GOLD, limit: int | None = None) -> list[GoldDoc]:
    """The first ``limit`` documents of the gold file (all of them when None)."""
    golds = list(read_conll(gold_path))
    return golds if limit is None else golds[:limit]


def evaluate(
    gold_path: Path = DEFAULT_GOLD,
    limit: int | None = None,
    model: str = DEFAULT_SPACY_MODEL,
    config: EntitiesConfig | None = None,
    batch_size: int = 32,
) -> dict[str, Tally]:
    """Score the bare model and the copydesk stage on the same parses."""
    return evaluate_docs(read_golds(gold_path, limit), model, config, batch_size)


def evaluate_docs(
    golds: list[GoldDoc],
    model: str = DEFAULT_SPACY_MODEL,
    config: EntitiesConfig | None = None,
    batch_size: int = 32,
) -> dict[str, Tally]:
    """``evaluate`` on documents already read."""
    services = Services(SharedParse(model))
    stage = EntitiesStage(config or EntitiesConfig(), services)
    stage.setup()
    tallies = {"spacy": Tally(), "copydesk": Tally()}
    for first in range(0, len(golds), batch_size):
        batch = golds[first : first + batch_size]
        docs = [
            Document(id=f"conll-dev-{g.index:04d}", raw_text=g.text, text=g.text) for g in batch
        ]
        services.shared_parse.parse_many(docs, batch_size=batch_size)
        for gold, doc in zip(batch, docs, strict=True):
            parsed = services.parse(doc)
            bare = [(e.start_char, e.end_char, e.label_) for e in parsed.ents]
            tallies["spacy"].add(mapped(bare), gold.entities)
            stage.process(doc)
            ours = [(e.start, e.end, e.label) for e in doc.entities]
            tallies["copydesk"].add(mapped(ours), gold.entities)
            services.shared_parse.release(doc)
    return tallies


def report(tallies: dict[str, Tally], documents: int) -> str:
    lines = [
        f"CoNLL-2003 English dev (eng.testa), {documents} documents; "
        "entity-level exact span + type",
        "development figures: the stage's rules were written reading this set; "
        "the held-out set is kept apart",
        "label mapping: PERSON->PER; GPE/LOC/FAC->LOC; ORG->ORG; "
        "NORP/EVENT/WORK_OF_ART/LAW/LANGUAGE/PRODUCT->MISC; dates and numbers dropped",
        "",
        f"{'system':<10} {'label':<6} {'P':>6} {'R':>6} {'F1':>6} {'pred':>6} {'gold':>6}",
    ]
    for system, tally in tallies.items():
        for kind in (*TYPES, None):
            p, r, f = tally.scores(kind)
            pred = tally.pred[kind] if kind else sum(tally.pred.values())
            gold = tally.gold[kind] if kind else sum(tally.gold.values())
            lines.append(
                f"{system:<10} {kind or 'ALL':<6} {p:6.3f} {r:6.3f} {f:6.3f} {pred:6d} {gold:6d}"
            )
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    parser.add_argument("--limit", type=int, default=None, help="only the first N documents")
    parser.add_argument("--model", default=DEFAULT_SPACY_MODEL)
    parser.add_argument("--json", action="store_true", help="print scores as JSON")
    args = parser.parse_args(argv)
    if not args.gold.exists():
        print(f"gold file {args.gold} not found", file=sys.stderr)
        return 2
    started = time.perf_counter()
    golds = read_golds(args.gold, args.limit)
    tallies = evaluate_docs(golds, args.model)
    documents = len(golds)
    if args.json:
        out = {
            system: {
                (kind or "ALL"): dict(zip(("p", "r", "f1"), tally.scores(kind), strict=True))
                for kind in (*TYPES, None)
            }
            for system, tally in tallies.items()
        }
        print(json.dumps(out, indent=2))
    else:
        print(report(tallies, documents))
        print(f"({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
