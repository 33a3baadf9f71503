"""A tokenizer wrapper whose cost is linear in the text, whatever the text holds.

spaCy's tokenizer peels prefixes and suffixes off each whitespace-free span one at a
time, re-running its regular expressions on what is left, so one span made of many
affixes costs the square of its length: 20,000 ``"`` in a row take tens of seconds, so
do runs of ``[``, ``$``, ``—`` or ``'s``. ``BoundedTokenizer`` keeps every call to the
real tokenizer short, and gives the real tokenizer ordinary text untouched:

* a run of ``max_run`` or more punctuation or symbol characters (no letter, digit or
  space) never reaches spaCy: it becomes tokens of ``max_run`` characters each, so a
  wall of 20,000 quote marks is 1,250 tokens, not 20,000 for every later stage to pay;
* a whitespace-free span longer than ``max_span`` characters is tokenized in pieces of at
  most ``max_span`` characters, so no single call peels more than that.

The pieces are joined with ``Doc.from_docs`` without adding whitespace, so the ``Doc``'s
text is the input exactly and every token's ``idx`` is its offset in the input. A text
with neither (nearly every article) is handed to the real tokenizer as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

#: Punctuation runs at least this long become fixed-size tokens (real text has none).
MAX_RUN = 16
#: Whitespace-free spans longer than this are tokenized in pieces this long (URLs fit).
MAX_SPAN = 128


class BoundedTokenizer:
    """Wraps a spaCy tokenizer so that no call costs more than linear time in the text."""

    def __init__(self, inner: Any, max_run: int = MAX_RUN, max_span: int = MAX_SPAN) -> None:
        if max_run < 2 or max_span < max_run:
            raise ValueError("need 2 <= max_run <= max_span")
        self.inner = inner
        self.max_run = max_run
        self.max_span = max_span
        self._run = re.compile(rf"(?<![^\w\s])[^\w\s]{{{max_run},}}")
        self._span = re.compile(rf"(?<!\S)\S{{{max_span + 1},}}")

    def __call__(self, text: str) -> Doc:
        runs = [m.span() for m in self._run.finditer(text)]
        if not runs and self._span.search(text) is None:
            whole: Doc = self.inner(text)
            return whole
        from spacy.tokens import Doc

        docs = list(self._pieces(text, runs))
        return Doc.from_docs(docs, ensure_whitespace=False) if len(docs) > 1 else docs[0]

    def pipe(self, texts: Iterable[str], batch_size: int = 1000) -> Iterator[Doc]:
        for text in texts:
            yield self(text)

    def __getattr__(self, name: str) -> Any:
        # vocab, rules, to_bytes… of the real tokenizer (only called for missing names)
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    # -- internals ---------------------------------------------------------------------

    def _pieces(self, text: str, runs: list[tuple[int, int]]) -> Iterator[Doc]:
        """Docs that concatenate to ``text``: plain stretches and punctuation runs in turn."""
        at = 0
        for start, end in runs:
            if start > at:
                yield from self._plain(text[at:start])
            # the run keeps one following space as its last token's trailing whitespace,
            # as spaCy would, instead of leaving it as a token of its own
            if end < len(text) and text[end] == " ":
                end += 1
            yield self._run_doc(text[start:end])
            at = end
        if at < len(text):
            yield from self._plain(text[at:])

    def _plain(self, text: str) -> Iterator[Doc]:
        """Tokenize text without punctuation runs, cutting over-long spans into pieces."""
        at = 0
        for match in self._span.finditer(text):
            start, end = match.span()
            # the text before a long span ends in whitespace (the span is maximal), so
            # tokenizing it apart changes nothing
            if start > at:
                yield self.inner(text[at:start])
            for cut in range(start, end, self.max_span):
                piece_end = min(cut + self.max_span, end)
                yield self.inner(text[cut:piece_end])
            at = end
        if at < len(text):
            yield self.inner(text[at:])

    def _run_doc(self, run: str) -> Doc:
        from spacy.tokens import Doc

        body = run.rstrip(" ")
        words = [body[i:i + self.max_run] for i in range(0, len(body), self.max_run)]
        spaces = [False] * len(words)
        spaces[-1] = len(body) < len(run)
        return Doc(self.inner.vocab, words=words, spaces=spaces)


def bound_tokenizer(nlp: Language, max_run: int = MAX_RUN, max_span: int = MAX_SPAN) -> None:
    """Make ``nlp``'s tokenizer a ``BoundedTokenizer`` (idempotent)."""
    if not isinstance(nlp.tokenizer, BoundedTokenizer):
        nlp.tokenizer = BoundedTokenizer(nlp.tokenizer, max_run, max_span)
