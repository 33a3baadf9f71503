"""A line-level boilerplate classifier for text copied from a whole web page.

Plain text has lost the markup that HTML extractors lean on (link density, tags), but a
line still says a lot about itself, as jusText (Pomikálek, 2011) showed for blocks:
prose is long and dense with stop words; menus, bylines, teasers and footers are short,
stop-word-poor, title-cased and often repeated on the page. The classifier here works in
the same two passes:

1. **Intrinsic class** of each line from its own features: ``good`` (long, stop-word
   dense prose), ``neargood`` (stop-word dense but shorter, or a short full sentence),
   ``short`` (too short to judge alone) or ``bad`` (stop-word poor, repeated on the page,
   or already matched by a furniture rule).
2. **Context**: a run of ``neargood`` lines is prose written a sentence a paragraph
   (tabloid style) and becomes ``good``; a ``short`` line takes the class of its
   neighbours (good between good, bad between bad; between the two it is kept only
   next to ``neargood``), a
   ``neargood`` line is dropped only when both neighbours are bad, and a heading-like
   line is kept when prose follows closely. The start and end of the page are neutral,
   so a short closing sentence of a clean article is not lost.

Finally the article is taken to be the **main run** of prose: lines separated from the
largest cluster of ``good`` lines by a long stretch of boilerplate (a sidebar bio, a
comment thread, a teaser block) are dropped unless their cluster is substantial itself.
When no line at all reads as prose, nothing is dropped: when unsure, keep.
"""

from __future__ import annotations

import importlib.util
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import Literal

Label = Literal["good", "neargood", "short", "bad"]

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*|\d+")
_SENTENCE_END = re.compile(r"[.!?…]['\"’”»)\]]*$")
_OPEN_QUOTE = re.compile(r"^[\"'“‘«„]")
#: A sentence boundary inside a line: an end mark, maybe a closing quote, a space and
#: a capital or an opening quote.
_INNER_SENTENCE_END = re.compile(r"[.!?…][\"'’”»)]?\s[\"'“‘«]?[A-ZÀ-ÖØ-Þ]")


@dataclass(frozen=True)
class Params:
    """The classifier's thresholds (jusText's defaults, adapted to lines of text)."""

    #: Shorter lines (in characters) are ``short``: too little evidence on their own.
    length_low: int = 70
    #: Longer lines dense enough in stop words are ``good``.
    length_high: int = 200
    #: Stop-word density from which a line can be ``neargood``.
    stopwords_low: float = 0.30
    #: Stop-word density from which a long line is ``good``.
    stopwords_high: float = 0.32
    #: Stop-word density from which a line ending a sentence reads as prose.
    stopwords_prose: float = 0.20
    #: A short line of at least this many words ending a sentence is ``neargood``.
    sentence_words: int = 6
    #: A page shows navigation when this many short lines that end no sentence (menu
    #: items) follow each other; without it the input is an article pasted on its own,
    #: and the classifier drops nothing.
    menu_run: int = 5
    #: "Short" for that purpose, in characters.
    menu_line_chars: int = 50
    #: This many ``neargood`` lines in a row (short ones between allowed) count as prose.
    neargood_run: int = 3
    #: How far (characters of text) prose may follow a heading for the heading to be kept.
    max_heading_distance: int = 200
    #: A stretch of this many characters of boilerplate between two runs of prose
    #: separates them into different clusters.
    cluster_gap_chars: int = 600
    #: ...or this many dropped lines (headline, byline, date between teasers).
    cluster_gap_lines: int = 4
    #: A cluster of prose other than the largest is kept when it has at least this share
    #: of the largest cluster's prose characters.
    cluster_keep_share: float = 0.25


@dataclass(frozen=True)
class LineFeatures:
    """What the classifier knows about one line."""

    chars: int
    words: int
    stopword_density: float
    ends_sentence: bool
    #: Sentence boundaries inside the line (a paragraph of prose has several).
    inner_sentences: int
    repeats: int
    capitalized_share: float
    separators: int


@lru_cache(maxsize=32)
def stop_words(language: str) -> frozenset[str] | None:
    """spaCy's stop words for ``language`` (``en``, ``de``…), or None when it has none.

    Only the stop-word module is read, not the whole language package (whose tokenizer
    exceptions take a second or more to import per language)."""
    code = language.split("-")[0].lower()
    if not code.isalpha():
        return None
    words: set[str] | None = None
    spec = importlib.util.find_spec("spacy")  # finds the package without importing it
    folders = spec.submodule_search_locations if spec else None
    for folder in folders or ():
        path = Path(folder) / "lang" / code / "stop_words.py"
        if path.is_file():
            module_spec = importlib.util.spec_from_file_location(
                f"_copydesk_stop_words_{code}", path
            )
            if module_spec is None or module_spec.loader is None:
                continue
            module = importlib.util.module_from_spec(module_spec)
            module_spec.loader.exec_module(module)
            words = getattr(module, "STOP_WORDS", None)
            break
    return frozenset(w.lower() for w in words) if words else None


#: How much of a line (characters) the word features are computed from.
FEATURE_CHARS = 5_000

#: Languages whose stop words are tried when the declared language's do not fit the page
#: (space-separated scripts only: the word features mean little for Chinese or Japanese).
CANDIDATE_LANGUAGES = (
    "en", "de", "fr", "es", "it", "pt", "nl", "sv", "da", "nb", "fi", "pl", "cs", "ro",
    "hu", "tr", "id", "ru", "uk", "el",
)

#: Share of a page's words that must be stop words of a language for its list to fit.
MIN_PAGE_STOPWORD_DENSITY = 0.12


def choose_stop_words(
    lines: Sequence[str], language: str
) -> tuple[str, frozenset[str]] | None:
    """The language and stop words that fit the page: the declared language's when its
    words are common on the page, else the best-fitting candidate's, else None (a
    language the classifier cannot judge, so every line should be kept)."""
    found = (m.group().lower() for line in lines for m in _WORD.finditer(line))
    words = list(islice(found, 20_000))
    if not words:
        return None

    def density(stops: frozenset[str] | None) -> float:
        return sum(w in stops for w in words) / len(words) if stops else 0.0

    declared = stop_words(language)
    if declared is not None and density(declared) >= MIN_PAGE_STOPWORD_DENSITY:
        return language, declared
    scored = [(density(stop_words(lang)), lang) for lang in CANDIDATE_LANGUAGES]
    best, lang = max(scored)
    stops = stop_words(lang)
    if stops is None or best < MIN_PAGE_STOPWORD_DENSITY:
        return None
    return lang, stops


def line_features(lines: Sequence[str], stops: frozenset[str]) -> list[LineFeatures]:
    """Features of every line; ``repeats`` counts identical lines on the whole page."""
    counts = Counter(line.casefold() for line in lines)
    feats = []
    for line in lines:
        # word features are read from the start of the line: a paragraph never needs
        # more, and a megabyte-long line costs no more than a long paragraph
        head = line[:FEATURE_CHARS]
        words = _WORD.findall(head)
        lowered = [w.lower() for w in words]
        n = len(words)
        alpha = [w for w in words if w[0].isalpha() and len(w) > 3]
        feats.append(
            LineFeatures(
                chars=len(line),
                words=n,
                stopword_density=(sum(w in stops for w in lowered) / n) if n else 0.0,
                ends_sentence=bool(_SENTENCE_END.search(line)),
                inner_sentences=len(_INNER_SENTENCE_END.findall(head)),
                repeats=counts[line.casefold()],
                capitalized_share=(
                    sum(w[0].isupper() for w in alpha) / len(alpha) if alpha else 0.0
                ),
                separators=sum(line.count(c) for c in "|•·»›"),
            )
        )
    return feats


def heading_like(line: str, feats: LineFeatures) -> bool:
    """A line that could be a section heading: short, capitalized, not a sentence."""
    if not line or not (line[0].isupper() or line[0].isdigit()):
        return False
    if feats.words == 0 or feats.words > 15 or feats.chars > 120 or feats.separators:
        return False
    if _OPEN_QUOTE.match(line) or line.endswith((",", ";", ":", ".", "!", "”", '"', "’")):
        return False
    return feats.words <= 6 or feats.capitalized_share >= 0.6


def looks_like_whole_page(
    feats: Sequence[LineFeatures], fixed_bad: Sequence[bool], params: Params
) -> bool:
    """True when the text shows a menu: ``menu_run`` short non-sentence lines in a row
    (lines a rule already removed are skipped over).

    Copied whole pages nearly always do (navigation, footer link lists); an article
    pasted on its own nearly never does, and then its lists and closing lines must not
    be judged as boilerplate."""
    run = 0
    for f, fixed in zip(feats, fixed_bad, strict=True):
        if fixed:
            continue  # furniture a rule matched neither makes nor breaks a menu
        if f.chars < params.menu_line_chars and not f.ends_sentence:
            run += 1
            if run >= params.menu_run:
                return True
        else:
            run = 0
    return False


def intrinsic_label(feats: LineFeatures, params: Params) -> Label:
    """The class a line earns from its own features (pass 1)."""
    if feats.repeats > 1 and feats.chars < params.length_high:
        return "bad"
    if feats.separators >= 2 and not feats.ends_sentence:
        return "bad"
    density = feats.stopword_density
    if feats.chars < params.length_low:
        if (
            feats.words >= params.sentence_words
            and feats.ends_sentence
            and density >= params.stopwords_low
        ):
            return "neargood"
        return "short"
    # a long line that ends a sentence (or holds several) is prose even when names and
    # figures thin out its stop words (news copy); others are judged on stop words alone
    if feats.ends_sentence or feats.inner_sentences >= 2:
        if density >= params.stopwords_prose:
            return "good" if feats.chars > params.length_high else "neargood"
        # a sentence thick with names and scores: let its neighbours decide
        return "short"
    if density >= params.stopwords_high and feats.chars > params.length_high:
        return "good"
    if density >= params.stopwords_low:
        return "short" if feats.chars <= params.length_high else "neargood"
    return "bad"


def classify(
    lines: Sequence[str],
    fixed_bad: Sequence[bool],
    stops: frozenset[str],
    params: Params | None = None,
) -> list[bool]:
    """Which lines to keep. ``fixed_bad`` marks lines a furniture rule already removed:
    they are never kept and count as boilerplate context for their neighbours."""
    params = params or Params()
    feats = line_features(lines, stops)
    first = [
        "bad" if fixed else intrinsic_label(f, params)
        for f, fixed in zip(feats, fixed_bad, strict=True)
    ]
    if not looks_like_whole_page(feats, fixed_bad, params):
        # an article pasted on its own, not a whole page: the rules did the work, and
        # a list or a closing line of the article is not boilerplate
        return [not fixed for fixed in fixed_bad]
    first = _promote_runs(first, params.neargood_run)
    if "good" not in first:
        if "neargood" not in first:
            # nothing on the page reads as prose: no ground to judge, keep it all
            return [not fixed for fixed in fixed_bad]
        # only shorter prose: the best there is stands for the article
        first = ["good" if label == "neargood" else label for label in first]
    heads = [
        not fixed and heading_like(line, f)
        for line, f, fixed in zip(lines, feats, fixed_bad, strict=True)
    ]
    labels: list[Label] = list(first)
    # headings followed closely by prose get a chance (jusText's "good headings")
    for i, label in enumerate(labels):
        if (
            heads[i]
            and label in ("short", "bad")
            and not fixed_bad[i]
            and feats[i].repeats == 1
            and _prose_follows(i, labels, feats, params.max_heading_distance)
        ):
            labels[i] = "neargood"
    labels = _resolve_short(labels)
    labels = _resolve_neargood(labels)
    keep = [label == "good" for label in labels]
    keep = _main_run(keep, feats, fixed_bad, params)
    return keep


def _promote_runs(labels: list[Label], min_run: int) -> list[Label]:
    """A run of ``min_run`` or more ``neargood`` lines (short lines between them
    allowed) is prose written one sentence a paragraph: it counts as ``good``."""
    out = list(labels)
    run: list[int] = []
    for i, label in enumerate([*labels, "bad"]):
        if label == "neargood":
            run.append(i)
        elif label != "short":
            if len(run) >= min_run:
                for j in run:
                    out[j] = "good"
            run = []
    return out


def _prose_follows(i: int, labels: Sequence[Label], feats: Sequence[LineFeatures],
                   max_distance: int) -> bool:
    distance = 0
    for j in range(i + 1, len(labels)):
        if labels[j] == "good":
            return True
        distance += feats[j].chars
        if distance > max_distance:
            return False
    return False


def _neighbour(labels: Sequence[Label], i: int, step: int, skip_neargood: bool) -> str | None:
    """The nearest decided class before (step -1) or after (+1) line ``i``; None at the
    page edge, which counts for neither side."""
    j = i + step
    while 0 <= j < len(labels):
        label = labels[j]
        if label == "short" or (skip_neargood and label == "neargood"):
            j += step
            continue
        return label
    return None


def _resolve_short(labels: list[Label]) -> list[Label]:
    out = list(labels)
    for i, label in enumerate(labels):
        if label != "short":
            continue
        prev = _neighbour(labels, i, -1, skip_neargood=True)
        nxt = _neighbour(labels, i, 1, skip_neargood=True)
        around = {x for x in (prev, nxt) if x is not None}
        if around == {"good"} or not around:
            out[i] = "good"
        elif around == {"bad"}:
            out[i] = "bad"
        else:
            near = (prev == "bad" and _neighbour(labels, i, -1, False) == "neargood") or (
                nxt == "bad" and _neighbour(labels, i, 1, False) == "neargood"
            )
            out[i] = "good" if near else "bad"
    return out


def _resolve_neargood(labels: list[Label]) -> list[Label]:
    out = list(labels)
    for i, label in enumerate(labels):
        if label != "neargood":
            continue
        prev = _neighbour(labels, i, -1, skip_neargood=True)
        nxt = _neighbour(labels, i, 1, skip_neargood=True)
        around = {x for x in (prev, nxt) if x is not None}
        out[i] = "bad" if around == {"bad"} else "good"
    return out


def _main_run(
    keep: list[bool], feats: Sequence[LineFeatures], fixed_bad: Sequence[bool], params: Params
) -> list[bool]:
    """Drop kept clusters far from the largest one unless they are substantial.

    Two kept lines belong to different clusters when more than ``cluster_gap_chars`` of
    dropped text, or at least ``cluster_gap_lines`` dropped lines, lie between them —
    lines a furniture rule removed (an ad slot, a caption inside the article) do not
    count as a gap."""
    clusters: list[list[int]] = []
    gap_chars = params.cluster_gap_chars + 1
    gap_lines = 0
    for i, kept in enumerate(keep):
        if kept:
            if (
                not clusters
                or gap_chars > params.cluster_gap_chars
                or gap_lines >= params.cluster_gap_lines
            ):
                clusters.append([])
            clusters[-1].append(i)
            gap_chars = gap_lines = 0
        elif not fixed_bad[i]:
            gap_chars += feats[i].chars
            gap_lines += 1
    if len(clusters) <= 1:
        return keep
    weight = [sum(feats[i].chars for i in c) for c in clusters]
    largest = max(weight)
    out = list(keep)
    for cluster, w in zip(clusters, weight, strict=True):
        if w < params.cluster_keep_share * largest:
            for i in cluster:
                out[i] = False
    return out
