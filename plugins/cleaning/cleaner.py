"""The cleaning procedure for plain text: furniture rules, the boilerplate classifier,
normalization, headings, and the rebuilt text with its paragraph breaks.

``Cleaner.clean(raw)`` never edits ``raw``: it decides line by line what to keep,
records every removal as offsets into ``raw`` with a reason, and builds the cleaned text
from the kept lines (normalized, one paragraph per block, paragraphs separated by one
blank line), noting where the headings landed in it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from copydesk.plugins.cleaning.boilerplate import (
    Params,
    choose_stop_words,
    classify,
    heading_like,
    intrinsic_label,
    line_features,
)
from copydesk.plugins.cleaning.normalize import iter_lines, normalize_line
from copydesk.plugins.cleaning.rules import MAX_LINE_RULE_CHARS, Rule

#: Reason recorded for lines the classifier dropped.
BOILERPLATE = "boilerplate"
#: Reason recorded for a line that repeats text kept earlier (a page's JSON-LD body,
#: a pull quote, an article printed twice).
DUPLICATE = "duplicate"

_SENTENCE_END = re.compile(r"[.!?…:;]['\"’”»)\]]*$")
_ONLY_PUNCT = re.compile(r"[\W_]*")


@dataclass
class Line:
    """One line of the raw text and what became of it."""

    start: int
    end: int
    #: Raw spans that survive inline rules (the whole line when none applied).
    pieces: list[tuple[int, int]]
    #: The normalized text of the pieces ('' for a blank line).
    text: str
    #: Inline cuts (start, end, reason) made inside the line.
    cuts: list[tuple[int, int, str]] = field(default_factory=list)
    #: True when a blank line (or the start of the text) comes right before this one.
    blank_before: bool = False
    reason: str | None = None
    heading: int = 0


@dataclass
class Cleaned:
    """The result: cleaned text, removals into the raw text, headings into the text."""

    text: str
    removed: list[tuple[int, int, str]] = field(default_factory=list)
    headings: list[tuple[int, int, int]] = field(default_factory=list)
    title: str | None = None
    #: Whose stop words the classifier used; None when it did not run.
    classifier_language: str | None = None


class Cleaner:
    """Cleans plain text with a set of furniture rules and, optionally, the classifier."""

    def __init__(
        self,
        rules: Sequence[Rule],
        language: str = "en",
        use_classifier: bool = True,
        fix_encoding: bool = True,
        max_block_lines: int = 25,
        tail_min_prose_chars: int = 400,
        params: Params | None = None,
    ) -> None:
        self.inline = [r for r in rules if r.scope == "inline"]
        self.line_rules = [r for r in rules if r.scope != "inline"]
        self._union = _union_pattern(self.line_rules)
        # pages repeat their menus and footers: match each distinct line once
        self._cached_match = lru_cache(maxsize=8192)(self._match)
        self.language = language
        self.use_classifier = use_classifier
        self.fix_encoding = fix_encoding
        self.max_block_lines = max_block_lines
        self.tail_min_prose_chars = tail_min_prose_chars
        self.params = params or Params()

    # -- the procedure -------------------------------------------------------------------

    def clean(self, raw: str, title: str | None = None, language: str | None = None) -> Cleaned:
        """Clean ``raw``; ``title`` (when known) helps recognise the title line, and
        ``language`` (default: the cleaner's) picks the classifier's stop words."""
        lines = self._split(raw)
        content = [ln for ln in lines if ln.text]
        chosen = choose_stop_words([ln.text for ln in content], language or self.language)
        self._apply_rules(content)
        stops: frozenset[str] = frozenset()
        used: str | None = None
        if chosen is not None:
            lang, stops = chosen
            if self.use_classifier and content:
                self._apply_classifier(content, stops)
                used = lang
        if self.use_classifier:
            self._drop_duplicates(content)
        self._mark_headings(content, title, stops)
        removed = _merge_removals(raw, lines)
        removed.extend(cut for ln in lines if ln.reason is None for cut in ln.cuts)
        removed.sort()
        cleaned = self._build(lines, removed)
        cleaned.classifier_language = used
        return cleaned

    def _split(self, raw: str) -> list[Line]:
        lines: list[Line] = []
        blank = True
        normalized: dict[str, str] = {}  # pages repeat their menus: normalize each once
        for start, end in iter_lines(raw):
            pieces = [(start, end)]
            cuts: list[tuple[int, int, str]] = []
            segment = raw[start:end]
            whole = normalized.get(segment)
            if whole is None:
                whole = normalize_line(segment, self.fix_encoding)
                if len(segment) <= MAX_LINE_RULE_CHARS:
                    normalized[segment] = whole
            # a line that is furniture as a whole (a caption ending in its credit) goes
            # whole; inline cuts are for credits inside prose
            inline = [] if self._matching_rule(whole) is not None else self.inline
            for rule in inline:
                found = [(start + m.start(), start + m.end()) for m in
                         rule.pattern.finditer(segment) if m.end() > m.start()]
                found = [(a, b) for a, b in found if not any(a < d and c < b for c, d, _ in cuts)]
                if found:
                    cuts.extend((a, b, rule.reason) for a, b in found)
                    pieces = _subtract(pieces, found)
            text = (
                whole if not cuts
                else normalize_line(" ".join(raw[a:b] for a, b in pieces), self.fix_encoding)
            )
            line = Line(start=start, end=end, pieces=pieces, text=text, cuts=sorted(cuts),
                        blank_before=blank)
            blank = not text
            if cuts and _ONLY_PUNCT.fullmatch(text) is not None:
                # nothing but punctuation is left once the credit is cut: drop the line
                line.text = segment.strip()
                line.reason = cuts[0][2]
            lines.append(line)
        return lines

    def _apply_rules(self, content: list[Line]) -> None:
        """Line, block and tail rules, in document order."""
        tails: list[tuple[int, str]] = []
        i = 0
        while i < len(content):
            line = content[i]
            if line.reason is not None:
                i += 1
                continue
            rule = self._matching_rule(line.text)
            if rule is None:
                i += 1
                continue
            line.reason = rule.reason
            if rule.scope == "block":
                i = self._remove_block(content, i, rule.reason)
                continue
            if rule.scope == "tail":
                tails.append((i, rule.reason))
            i += 1
        for at, reason in tails:
            if self._remove_tail(content, at, reason):
                break

    def _matching_rule(self, text: str) -> Rule | None:
        """The first line/block/tail rule the whole line matches, if any."""
        if len(text) > MAX_LINE_RULE_CHARS:
            return None
        return self._cached_match(text)

    def _match(self, text: str) -> Rule | None:
        if self._union is not None:
            match = self._union.fullmatch(text)
            if match and match.lastgroup:
                return self.line_rules[int(match.lastgroup[1:])]
            return None
        return next((r for r in self.line_rules if r.matches_line(text)), None)

    def _remove_block(self, content: list[Line], i: int, reason: str) -> int:
        """Drop the list after a block heading; return the index to continue from."""
        j = i + 1
        while j < len(content) and j - i <= self.max_block_lines:
            text = content[j].text
            if self._matching_rule(text) is not None or _reads_as_prose(text):
                break
            nxt = content[j + 1].text if j + 1 < len(content) else ""
            if content[j].blank_before and _is_heading_shape(text) and _reads_as_prose(nxt):
                break  # a section heading of the article itself, not the list's last item
            content[j].reason = reason
            j += 1
        return j

    def _remove_tail(self, content: list[Line], at: int, reason: str) -> bool:
        """Drop from ``at`` to the end when an article's worth of prose comes before it;
        True when it did."""
        before = sum(
            len(ln.text) for ln in content[:at]
            if ln.reason is None and _reads_as_prose(ln.text)
        )
        if before < self.tail_min_prose_chars:
            # a comment counter beside the byline: only the marker goes
            return False
        for line in content[at:]:
            if line.reason is None:
                line.reason = reason
        return True

    def _apply_classifier(self, content: list[Line], stops: frozenset[str]) -> None:
        keep = classify(
            [ln.text for ln in content],
            [ln.reason is not None for ln in content],
            stops,
            self.params,
        )
        for line, kept in zip(content, keep, strict=True):
            if not kept and line.reason is None:
                line.reason = BOILERPLATE

    def _drop_duplicates(self, content: list[Line], min_words: int = 20,
                         share: float = 0.8) -> None:
        """Drop a kept paragraph-length line whose word 4-grams mostly occurred in lines
        kept before it (a page's copy of its own body, a pull quote). Shorter lines may
        repeat on purpose (a recipe's steps, a refrain)."""
        seen: set[tuple[str, ...]] = set()
        for line in content:
            if line.reason is not None:
                continue
            words = _WORDS.findall(line.text[:5_000].casefold())
            grams = {tuple(words[i : i + 4]) for i in range(len(words) - 3)}
            if len(words) >= min_words and grams and len(grams & seen) >= share * len(grams):
                line.reason = DUPLICATE
                continue
            seen |= grams

    def _mark_headings(self, content: list[Line], title: str | None,
                       stops: frozenset[str]) -> None:
        kept = [ln for ln in content if ln.reason is None]
        feats = line_features([ln.text for ln in kept], stops)
        seen_prose = title_marked = False
        for k, line in enumerate(kept):
            nxt = kept[k + 1] if k + 1 < len(kept) else None
            # the title line: the known title, or else a heading-like first line
            is_title = (
                _same_words(line.text, title) if title is not None
                else k == 0 and heading_like(line.text, feats[k])
            )
            if not seen_prose and not title_marked and is_title:
                line.heading = 1
                title_marked = True
            elif (
                heading_like(line.text, feats[k])
                and nxt is not None
                and not heading_like(nxt.text, feats[k + 1])
                and (
                    intrinsic_label(feats[k + 1], self.params) in ("good", "neargood")
                    or _reads_as_prose(nxt.text)
                )
            ):
                line.heading = 2
            if _reads_as_prose(line.text):
                seen_prose = True

    def _build(self, lines: list[Line], removed: list[tuple[int, int, str]]) -> Cleaned:
        paragraphs: list[tuple[str, int]] = []  # (text, heading level)
        current: list[str] = []
        boundary = True

        def flush() -> None:
            if current:
                paragraphs.append((" ".join(current), 0))
                current.clear()

        for line in lines:
            if not line.text or line.reason is not None:
                boundary = True
                continue
            if line.heading:
                flush()
                paragraphs.append((line.text, line.heading))
            elif current and not boundary and _continues(current[-1], line.text):
                current.append(line.text)
            else:
                flush()
                current.append(line.text)
            boundary = False
        flush()
        parts: list[str] = []
        headings: list[tuple[int, int, int]] = []
        offset = 0
        title = None
        for text, level in paragraphs:
            if parts:
                offset += 2
            if level:
                headings.append((offset, offset + len(text), level))
                if level == 1 and title is None:
                    title = text
            parts.append(text)
            offset += len(text)
        return Cleaned(text="\n\n".join(parts), removed=removed, headings=headings, title=title)


def _union_pattern(rules: Sequence[Rule]) -> re.Pattern[str] | None:
    """All line rules as one alternation, tried in order, each in a named group ``r<i>``
    so the match tells which rule it was (one regex call a line instead of one a rule).
    None when a pattern cannot be embedded (e.g. it sets global flags)."""
    if not rules:
        return None
    try:
        return re.compile(
            "|".join(f"(?P<r{i}>{rule.pattern.pattern})" for i, rule in enumerate(rules)),
            re.IGNORECASE,
        )
    except (re.error, OverflowError, RecursionError):
        return None


def _subtract(pieces: list[tuple[int, int]], cuts: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out = []
    for a, b in pieces:
        pos = a
        for c, d in cuts:
            if d <= pos or c >= b:
                continue
            if c > pos:
                out.append((pos, c))
            pos = max(pos, d)
        if pos < b:
            out.append((pos, b))
    return out


def _merge_removals(raw: str, lines: list[Line]) -> list[tuple[int, int, str]]:
    """Runs of removed lines with one reason become one removal (blank lines between
    them included); the span is trimmed to the first and last visible character."""
    out: list[tuple[int, int, str]] = []
    run: tuple[int, int, str] | None = None
    for line in lines:
        if not line.text:
            continue
        if line.reason is None:
            if run:
                out.append(run)
            run = None
            continue
        start, end = line.start, line.end
        if run and run[2] == line.reason:
            run = (run[0], end, run[2])
        else:
            if run:
                out.append(run)
            run = (start, end, line.reason)
    if run:
        out.append(run)
    trimmed = []
    for a, b, reason in out:
        while a < b and raw[a].isspace():
            a += 1
        while b > a and raw[b - 1].isspace():
            b -= 1
        if b > a:
            trimmed.append((a, b, reason))
    return trimmed


_WORDS = re.compile(r"\w+")


def _same_words(a: str, b: str) -> bool:
    if len(a) > 2 * len(b) + 20 or len(b) > 2 * len(a) + 20:
        return False
    return _WORDS.findall(a.casefold()) == _WORDS.findall(b.casefold())


def _reads_as_prose(text: str) -> bool:
    """Enough words and a sentence end: a line no list rule should swallow."""
    return len(_WORDS.findall(text[:500])) >= 8 and bool(_SENTENCE_END.search(text))


def _is_heading_shape(text: str) -> bool:
    words = _WORDS.findall(text[:500])
    return 0 < len(words) <= 15 and not _SENTENCE_END.search(text) and text[:1].isupper()


def _continues(previous: str, line: str) -> bool:
    """True when ``line`` continues the sentence of ``previous`` (a hard-wrapped line)."""
    return not _SENTENCE_END.search(previous) and line[:1].islower()
