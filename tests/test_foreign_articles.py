"""Articles exported by other systems: unknown fields are kept in metadata, not refused."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from copydesk.cli import cli
from copydesk.document import ArticleRules, InvalidArticle, parse_article

from tests.conftest import shared_path


def run(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_unknown_fields_are_moved_into_metadata() -> None:
    article = parse_article({"id": "a-1", "text": "Kyiv said.", "category": "world",
                             "tags": ["war", "talks"], "metadata": {"desk": "foreign"}})
    assert article.metadata == {"desk": "foreign", "category": "world",
                                "tags": ["war", "talks"]}
    assert article.moved_fields == ("category", "tags")


def test_an_article_with_only_known_fields_moves_nothing() -> None:
    article = parse_article({"text": "Kyiv said.", "source": "wire"})
    assert article.moved_fields == () and article.metadata == {}


def test_strict_rules_refuse_unknown_fields_and_say_which_setting() -> None:
    with pytest.raises(InvalidArticle, match=r"category: Extra inputs.*strict_articles"):
        ArticleRules(strict=True).parse({"text": "Kyiv said.", "category": "world"})


def test_a_field_clashing_with_a_metadata_key_is_refused_by_name() -> None:
    with pytest.raises(InvalidArticle, match=r"^category: .*metadata already holds"):
        parse_article({"text": "Kyiv said.", "category": "world",
                       "metadata": {"category": "sport"}})


def test_a_field_equal_to_its_metadata_key_is_simply_kept() -> None:
    article = parse_article({"text": "Kyiv said.", "category": "world",
                             "metadata": {"category": "world"}})
    assert article.metadata == {"category": "world"}


def test_process_keeps_extra_fields_and_says_so_once(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    path.write_text("".join(json.dumps({"id": f"x-{i}", "text": f"Article {i}.",
                                        "category": "tech"}) + "\n" for i in range(3)))
    result = run("--stages", "", "process", str(path))
    assert result.exit_code == 0, result.output
    docs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d["metadata"] for d in docs] == [{"category": "tech"}] * 3
    assert result.stderr.count("category (3 articles)") == 1
    assert "strict_articles" in result.stderr


def test_strict_articles_setting_restores_refusal_in_process(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    path.write_text(json.dumps({"text": "Article.", "category": "tech"}) + "\n")
    result = run("--stages", "", "process", str(path), env={"COPYDESK_STRICT_ARTICLES": "true"})
    assert result.exit_code == 1
    assert "category: Extra inputs are not permitted" in result.stderr


@pytest.mark.slow
def test_process_takes_the_first_100_corpus_lines_as_they_are(tmp_path: Path) -> None:
    corpus = shared_path("corpus", "bbc-news-2005.jsonl")
    first = tmp_path / "first-100.jsonl"
    with corpus.open(encoding="utf-8") as lines:
        first.write_text("".join(itertools.islice(lines, 100)), encoding="utf-8")
    result = run("process", str(first), "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    docs = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(docs) == 100 and all(d["status"] == "done" for d in docs)
    assert all(d["metadata"]["category"] for d in docs)
