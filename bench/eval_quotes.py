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

"all" adds the direct and reported figures: its speaker accuracy is the share of all
attributions found (matched) whose speaker is right.

The baseline (``baseline_predictions``), computed on the same parse in the same run:
double-quoted stretches of three words or more, their speaker the subject of the verb of
saying nearest them (from the start of their sentence to ten tokens after them; else the
proper noun or pronoun nearest that verb), and "X said <clause>" as reported speech. The quality floors in tests/test_quotes.py compare with it.

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


#: The baseline's verbs of saying: the dozen most common in news reports.
BASELINE_VERBS = {"say", "tell", "add", "ask", "write", "explain", "note", "claim", "argue",
                  "insist", "warn", "state", "reply", "announce", "tweet"}
_BASELINE_QUOTES = re.compile(r'"[^"\n]+"|“[^”\n]+”')


def _baseline_speaker(window: Any, quote: Any, outside: Any) -> Frag | None:
    """The subject of the verb of saying nearest the quote in ``window``, else the proper
    noun or pronoun nearest that verb; both outside the quotation marks."""
    verbs = [t for t in window if t.lemma_.lower() in BASELINE_VERBS and t.pos_ == "VERB"
             and outside(t)]
    if not verbs:
        return None
    verb = min(verbs, key=lambda t: min(abs(t.i - quote.start), abs(t.i - quote.end)))
    for child in verb.children:
        if child.dep_ in ("nsubj", "nsubjpass") and outside(child):
            return (child.left_edge.idx, child.idx + len(child.text))
    names = [t for t in window if t.pos_ in ("PROPN", "PRON") and outside(t)]
    if not names:
        return None
    near = min(names, key=lambda t: abs(t.i - verb.i))
    return (near.idx, near.idx + len(near.text))


def baseline_predictions(sp: Any) -> list[Prediction]:
    """A simple baseline in the manner of textacy, computed on the same parse: every
    double-quoted stretch of three words or more within a paragraph is a direct quote,
    its speaker the subject of the verb of saying nearest it (from the start of its
    sentence to ten tokens after it, within the paragraph), else the proper noun or
    pronoun nearest that verb; and every verb of saying with a clause as its
    complement is reported speech by its subject."""
    text = sp.text
    out: list[Prediction] = []
    spans = [(m.start(), m.end()) for m in _BASELINE_QUOTES.finditer(text)
             if len(m.group().split()) >= 3]

    def outside(token: Any) -> bool:
        return not any(a <= token.idx < b for a, b in spans)

    for start, end in spans:
        quote = sp.char_span(start, end, alignment_mode="expand")
        if quote is None:
            continue
        para_start = text.rfind("\n", 0, start) + 1
        para_end = text.find("\n", end)
        para_end = len(text) if para_end < 0 else para_end
        lo = max(quote[0].sent.start, 0)
        hi = min(quote.end + 10, len(sp))
        window = [t for t in sp[lo:hi] if para_start <= t.idx < para_end]
        out.append(Prediction((start, end), "direct", _baseline_speaker(window, quote, outside)))
    for tok in sp:
        if tok.lemma_.lower() not in BASELINE_VERBS or not outside(tok):
            continue
        subject = next((c for c in tok.children if c.dep_ == "nsubj"), None)
        clause = next((c for c in tok.children if c.dep_ == "ccomp"), None)
        if subject is None or clause is None:
            continue
        content = (clause.left_edge.idx, clause.right_edge.idx + len(clause.right_edge.text))
        if any(a <= content[0] < b for a, b in spans):
            continue  # the direct quote's own clause
        out.append(Prediction(content, "indirect",
                              (subject.left_edge.idx, subject.idx + len(subject.text))))
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
    totals = {k: Score() for k in ("copydesk_direct", "copydesk_indirect", "baseline_direct",
                                   "baseline_indirect", "textacy_direct")}
    stats: dict[str, int] = {}
    started = time.perf_counter()
    for art in articles:
        doc = Document.from_article(Submitted(text=art.text))
        shared = pipeline.services.shared_parse
        shared.parse_many([doc])
        sp = pipeline.services.parse(doc)
        base = baseline_predictions(sp)
        totals["baseline_direct"].add(score(base, art.gold, "direct"))
        totals["baseline_indirect"].add(score(base, art.gold, "indirect"))
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
    for system in ("copydesk", "baseline"):
        both = Score()
        both.add(totals[f"{system}_direct"])
        both.add(totals[f"{system}_indirect"])
        both.lenient_matched = 0
        totals[f"{system}_all"] = both
    order = ["copydesk_direct", "copydesk_indirect", "copydesk_all", "baseline_direct",
             "baseline_indirect", "baseline_all", "textacy_direct"]
    totals = {k: totals[k] for k in order}
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
    print("*_all: direct and reported together; 'spk acc' there is the right speaker over "
          "all attributions found.")
    print("baseline: double-quoted stretches with the subject of the nearest verb of saying, "
          "and 'X said <clause>' (bench/eval_quotes.py: baseline_predictions).")
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
