"""Evaluate the quotes stage on PolNeAR (../shared/eval/quotes) against textacy.

Gold data: news articles (``text/*.txt``) with brat standoff attributions
(``attributions/*.ann``): ``T`` lines are Source, Cue and Content spans (possibly
discontinuous: ``start end;start end``), ``E`` lines tie them into one relation.
Where an article has several annotators' files, the first in sorted order is used.

Rules, stated once:
- A gold relation is **direct** when its Content is inside quotation marks (each
  fragment, stripped of spaces and trailing punctuation, begins with an opening mark and
  ends with a closing one, or is immediately enclosed by marks); otherwise **indirect**.
  Our ``indirect`` and ``according_to`` quotes are both scored as indirect.
- A predicted span **matches** a gold relation when their character overlap is at least
  half of the shorter of the two (the gold length being the sum of its fragments);
  pairs are matched one-to-one, largest overlap first. Precision = matched predictions /
  predictions, recall = matched gold / gold.
- **Speaker accuracy**: over matched pairs whose gold relation has a Source, the share
  whose predicted speaker span overlaps the gold Source (a pronoun is right when the
  gold Source is that pronoun: PolNeAR marks the mention, not the resolved name).
  "attributed recall" is correct-speaker matches over all gold relations with a Source.
- "lenient precision" (direct only) counts a predicted direct quote as right when it
  matches any gold relation, direct or indirect (partial quotes inside reported speech).

The peer: textacy's ``extract.triples.direct_quotations`` run on the very spaCy Doc the
quotes stage reads (same model, same parse).

    .venv/bin/python bench/eval_quotes.py [--limit N] [--data DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
DEFAULT_DATA = ROOT.parent / "shared" / "eval" / "quotes"

OPENERS = set("\"“‘'«„")
CLOSERS = set("\"”’'»")

Frag = tuple[int, int]


@dataclass
class GoldRelation:
    content: list[Frag]
    source: list[Frag]
    kind: str  # direct | indirect


@dataclass
class Prediction:
    span: Frag
    kind: str
    speaker: Frag | None


@dataclass
class Score:
    gold: int = 0
    pred: int = 0
    matched: int = 0
    with_source: int = 0
    speaker_checked: int = 0
    speaker_right: int = 0
    lenient_matched: int = 0

    def add(self, other: Score) -> None:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def figures(self) -> dict[str, float | int]:
        p = self.matched / self.pred if self.pred else 0.0
        r = self.matched / self.gold if self.gold else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        acc = self.speaker_right / self.speaker_checked if self.speaker_checked else 0.0
        att = self.speaker_right / self.with_source if self.with_source else 0.0
        lenient = self.lenient_matched / self.pred if self.pred else 0.0
        return {
            "gold": self.gold, "pred": self.pred, "matched": self.matched,
            "precision": round(p, 3), "recall": round(r, 3), "f1": round(f, 3),
            "speaker_accuracy": round(acc, 3), "speaker_checked": self.speaker_checked,
            "attributed_recall": round(att, 3), "lenient_precision": round(lenient, 3),
        }


@dataclass
class Article:
    name: str
    text: str
    gold: list[GoldRelation] = field(default_factory=list)


# -- gold ------------------------------------------------------------------------------


def _frags(offsets: str) -> list[Frag]:
    out = []
    for part in offsets.split(";"):
        a, b = part.split()
        out.append((int(a), int(b)))
    return out


def _is_direct(text: str, frags: Sequence[Frag]) -> bool:
    for a, b in frags:
        piece = text[a:b].strip()
        core = piece.rstrip(" .,;:!?")
        inside = piece[:1] in OPENERS and (piece[-1:] in CLOSERS or core[-1:] in CLOSERS)
        before = text[:a].rstrip(" ")[-1:]
        after = text[b:].lstrip(" .,;:!?")[:1]
        enclosed = before in OPENERS and (after in CLOSERS or piece[-1:] in CLOSERS)
        if not (inside or enclosed):
            return False
    return True


def read_ann(path: Path, text: str) -> list[GoldRelation]:
    spans: dict[str, tuple[str, list[Frag]]] = {}
    relations: list[dict[str, str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if not parts or not parts[0]:
            continue
        if parts[0].startswith("T") and len(parts) >= 2:
            label, _, offsets = parts[1].partition(" ")
            spans[parts[0]] = (label, _frags(offsets))
        elif parts[0].startswith("E") and len(parts) >= 2:
            args = dict(arg.split(":", 1) for arg in parts[1].split() if ":" in arg)
            relations.append(args)
    gold = []
    for rel in relations:
        content = spans.get(rel.get("Content", ""))
        if content is None:
            continue
        source = spans.get(rel.get("Source", ""))
        frags = content[1]
        gold.append(GoldRelation(
            content=frags,
            source=source[1] if source else [],
            kind="direct" if _is_direct(text, frags) else "indirect",
        ))
    return gold


def load_articles(data: Path, limit: int | None = None) -> list[Article]:
    articles = []
    for txt in sorted((data / "text").glob("*.txt")):
        anns = sorted((data / "attributions").glob(f"{txt.stem}_*.ann"))
        anns = [a for a in anns if re.fullmatch(re.escape(txt.stem) + r"_[^_]+", a.stem)]
        if not anns:
            continue
        text = txt.read_text(encoding="utf-8")
        articles.append(Article(txt.stem, text, read_ann(anns[0], text)))
        if limit and len(articles) >= limit:
            break
    return articles


# -- scoring ---------------------------------------------------------------------------


def _overlap(span: Frag, frags: Iterable[Frag]) -> int:
    return sum(max(0, min(span[1], b) - max(span[0], a)) for a, b in frags)


def _length(frags: Iterable[Frag]) -> int:
    return sum(b - a for a, b in frags)


def _match(preds: Sequence[Prediction], gold: Sequence[GoldRelation]) -> list[tuple[int, int]]:
    pairs = []
    for i, p in enumerate(preds):
        for j, g in enumerate(gold):
            ov = _overlap(p.span, g.content)
            shorter = min(p.span[1] - p.span[0], _length(g.content))
            if shorter > 0 and ov >= 0.5 * shorter:
                pairs.append((ov, i, j))
    pairs.sort(reverse=True)
    used_p: set[int] = set()
    used_g: set[int] = set()
    out = []
    for _, i, j in pairs:
        if i in used_p or j in used_g:
            continue
        used_p.add(i)
        used_g.add(j)
        out.append((i, j))
    return out


def score(preds: Sequence[Prediction], gold: Sequence[GoldRelation], kind: str) -> Score:
    ps = [p for p in preds if p.kind == kind]
    gs = [g for g in gold if g.kind == kind]
    s = Score(gold=len(gs), pred=len(ps), with_source=sum(1 for g in gs if g.source))
    matched = _match(ps, gs)
    s.matched = len(matched)
    for i, j in matched:
        g = gs[j]
        if not g.source:
            continue
        s.speaker_checked += 1
        spk = ps[i].speaker
        if spk is not None and _overlap(spk, g.source) > 0:
            s.speaker_right += 1
    if kind == "direct":
        s.lenient_matched = len(_match(ps, gold))
    return s


# -- systems ---------------------------------------------------------------------------


def copydesk_predictions(doc: Any) -> list[Prediction]:
    out = []
    for q in doc.quotes:
        kind = "direct" if q.kind == "direct" else "indirect"
        spk = (q.speaker.start, q.speaker.end) if q.speaker else None
        out.append(Prediction((q.start, q.end), kind, spk))
    return out


def textacy_predictions(sp: Any, stats: dict[str, int]) -> list[Prediction]:
    """textacy's direct quotations. textacy refuses a whole document with an odd number
    of quotation marks; then it is run paragraph by paragraph (each as its own Doc, with
    the same annotations) and paragraphs it still refuses count as no quotes."""
    from textacy.extract.triples import direct_quotations

    try:
        triples = [(t, 0) for t in direct_quotations(sp)]
    except ValueError:
        stats["textacy_refused_docs"] = stats.get("textacy_refused_docs", 0) + 1
        triples = []
        for para in _paragraphs(sp):
            try:
                triples.extend((t, para.start_char) for t in direct_quotations(para.as_doc()))
            except ValueError:
                stats["textacy_refused_paragraphs"] = stats.get(
                    "textacy_refused_paragraphs", 0) + 1
    out = []
    for triple, offset in triples:
        content = triple.content
        speaker = triple.speaker
        spk = None
        if speaker:
            spk = (offset + min(t.idx for t in speaker),
                   offset + max(t.idx + len(t.text) for t in speaker))
        out.append(Prediction(
            (offset + content.start_char, offset + content.end_char), "direct", spk))
    return out


def _paragraphs(sp: Any) -> list[Any]:
    spans = []
    start = 0
    for tok in sp:
        if tok.is_space and "\n" in tok.text:
            if tok.i > start:
                spans.append(sp[start : tok.i])
            start = tok.i + 1
    if start < len(sp):
        spans.append(sp[start:])
    return spans


def build_pipeline() -> tuple[Any, str]:
    """The quotes stage with the entities stage when installed; says which was used."""
    from copydesk import Pipeline, PipelineError, Settings

    settings = Settings()
    settings.pipeline.stages = ["entities", "quotes"]
    try:
        return Pipeline.build(settings), "entities stage"
    except PipelineError:
        settings.pipeline.stages = ["quotes"]
        return Pipeline.build(settings), "none (entities stage not installed)"


def evaluate(data: Path = DEFAULT_DATA, limit: int | None = None) -> dict[str, Any]:
    from copydesk.document import Article as Submitted
    from copydesk.document import Document

    articles = load_articles(data, limit)
    pipeline, entities_from = build_pipeline()
    pipeline.setup()
    try:
        import textacy

        peer: str | None = f"textacy {textacy.__version__} extract.triples.direct_quotations"
        peer_error = None
    except ImportError as exc:  # pragma: no cover - depends on the bench extra
        peer, peer_error = None, (
            f"textacy cannot be imported ({exc}): pip install -e '.[bench]'")
    totals = {k: Score() for k in ("copydesk_direct", "copydesk_indirect", "textacy_direct")}
    stats: dict[str, int] = {}
    started = time.perf_counter()
    for art in articles:
        doc = Document.from_article(Submitted(text=art.text))
        shared = pipeline.services.shared_parse
        shared.parse_many([doc])
        sp = pipeline.services.parse(doc)
        if peer is not None:
            totals["textacy_direct"].add(
                score(textacy_predictions(sp, stats), art.gold, "direct"))
        done = pipeline.process(doc)
        for run in done.runs:
            if run.status != "ok":
                stats[f"{run.stage}_{run.status}"] = stats.get(f"{run.stage}_{run.status}", 0) + 1
        preds = copydesk_predictions(done)
        totals["copydesk_direct"].add(score(preds, art.gold, "direct"))
        totals["copydesk_indirect"].add(score(preds, art.gold, "indirect"))
    return {
        "articles": len(articles),
        "entities": entities_from,
        "peer": peer or peer_error,
        "seconds": round(time.perf_counter() - started, 1),
        "notes": stats,
        "scores": {k: v.figures() for k, v in totals.items() if k != "textacy_direct" or peer},
    }


def _print(result: dict[str, Any]) -> None:
    print(f"PolNeAR dev: {result['articles']} articles; entities layer: {result['entities']}")
    print(f"peer: {result['peer']}")
    print("match: overlap >= half the shorter span, one-to-one; speaker: span overlaps gold Source")
    header = (f"{'system / kind':24} {'gold':>5} {'pred':>5} {'P':>6} {'R':>6} {'F1':>6} "
              f"{'spk acc':>8} {'attr R':>7} {'lenient P':>9}")
    print(header)
    for name, fig in result["scores"].items():
        lenient = f"{fig['lenient_precision']:.3f}" if name.endswith("direct") and not name.endswith(
            "indirect") else "-"
        print(f"{name:24} {fig['gold']:>5} {fig['pred']:>5} {fig['precision']:>6.3f} "
              f"{fig['recall']:>6.3f} {fig['f1']:>6.3f} {fig['speaker_accuracy']:>8.3f} "
              f"{fig['attributed_recall']:>7.3f} {lenient:>9}")
    print("textacy extracts direct quotations only: it has no indirect figures.")
    notes = result.get("notes") or {}
    for key, count in sorted(notes.items()):
        if key.endswith(("_failed", "_skipped")):
            print(f"WARNING: stage run {key}: {count} articles (their layers are empty)")
    if notes.get("textacy_refused_docs"):
        print(f"textacy refused {notes['textacy_refused_docs']} articles (odd number of "
              f"quotation marks); run per paragraph there, "
              f"{notes.get('textacy_refused_paragraphs', 0)} paragraphs still refused")
    print(f"({result['seconds']} s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=None, help="first N articles only")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if not args.data.exists():
        print(f"no evaluation data at {args.data}", file=sys.stderr)
        return 2
    import logging

    logging.disable(logging.WARNING)
    result = evaluate(args.data, args.limit)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        _print(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
