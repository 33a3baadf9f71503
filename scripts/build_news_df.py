"""Build the news document-frequency table the stories stage weights words by.

Reads the shared news corpus (``../shared/corpus/bbc-news-2005.jsonl``: 2,225 BBC News
articles of 2004-05 in five sections) and writes ``plugins/stories/news_df.txt``: a first
line ``# documents N``, then ``word count`` lines, each word folded as the stage folds it
(``terms.fold``) and counted once per article.

A word's weight is then its inverse document frequency in news, log((N + 1) / (df + 1)):
"said", "year" and "government" count for little, a rare name for a lot, whatever order
articles arrive in. Run it again after changing ``fold``::

    python scripts/build_news_df.py [--corpus PATH] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from copydesk.plugins.stories.terms import WORD, fold

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "bbc-news-2005.jsonl"
OUT = ROOT / "plugins" / "stories" / "news_df.txt"


def document_frequencies(path: Path) -> tuple[int, Counter[str]]:
    """The number of articles in the JSON Lines file ``path`` and, per folded word, the
    number of articles it occurs in (title or text)."""
    counts: Counter[str] = Counter()
    documents = 0
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            row = json.loads(line)
            text = f"{row.get('title') or ''}\n{row.get('text') or ''}"
            words = {fold(m.group()) for m in WORD.finditer(text)}
            counts.update(w for w in words if w is not None)
            documents += 1
    return documents, counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--min-count", type=int, default=1,
                        help="leave out words in fewer articles than this")
    args = parser.parse_args(argv)
    if not args.corpus.exists():
        raise SystemExit(f"{args.corpus} is not available")
    documents, counts = document_frequencies(args.corpus)
    kept = sorted((w, c) for w, c in counts.items() if c >= args.min_count)
    with args.out.open("w", encoding="utf-8") as out:
        out.write(f"# documents {documents}\n")
        out.writelines(f"{word} {count}\n" for word, count in kept)
    print(f"{args.out}: {len(kept)} words from {documents} articles")
    return 0


if __name__ == "__main__":
    sys.exit(main())
