"""The document contract: submitted articles, offsets, the JSON Schema."""

from __future__ import annotations

import json

import pytest
from copydesk.document import (
    Article,
    Document,
    Entity,
    InvalidArticle,
    document_json_schema,
    parse_article,
)
from pydantic import ValidationError


def test_article_without_id_gets_a_stable_content_id() -> None:
    first = Article(text="Kyiv said on Monday.")
    second = Article(text="Kyiv said on Monday.")
    assert first.id == second.id
    assert first.id is not None and first.id.startswith("sha256-")


def test_article_needs_exactly_one_of_text_and_html() -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        Article(text="a", html="<p>a</p>")
    with pytest.raises(ValidationError, match="exactly one"):
        Article(title="no body")


def test_an_unknown_field_given_to_article_is_refused_naming_parse_article() -> None:
    row = {"id": "desk-7", "title": "Rates held", "text": "The bank held rates.",
           "category": "business"}
    with pytest.raises(ValidationError, match=r"(?s)category\n.*copydesk\.parse_article"):
        Article(**row)
    assert parse_article(row).metadata == {"category": "business"}


def test_other_errors_of_article_keep_their_own_messages_beside_the_hint() -> None:
    with pytest.raises(ValidationError) as raised:
        Article(text="Kyiv said.", language="EN!", desk="foreign")
    messages = {err["loc"]: err["msg"] for err in raised.value.errors()}
    assert "should match pattern" in messages[("language",)]
    assert "parse_article" in messages[("desk",)]


def test_empty_article_is_refused_with_a_reason() -> None:
    with pytest.raises(InvalidArticle, match="empty"):
        parse_article({"text": "  \n\t "})


def test_binary_article_is_refused_as_not_text() -> None:
    with pytest.raises(InvalidArticle, match="binary"):
        parse_article({"text": "PK\x03\x04\x00\x00\x14\x00"})


def test_oversized_article_is_refused_naming_the_limit() -> None:
    with pytest.raises(InvalidArticle, match="over the limit of 100"):
        parse_article({"text": "x" * 101}, max_chars=100)


def test_invalid_field_is_named_in_the_error() -> None:
    with pytest.raises(InvalidArticle, match="published_at"):
        parse_article({"text": "hello", "published_at": "last tuesday-ish"})


def test_unsafe_id_is_refused() -> None:
    with pytest.raises(InvalidArticle, match="id"):
        parse_article({"id": "../../etc/passwd", "text": "hello"})


def test_malformed_json_is_refused() -> None:
    with pytest.raises(InvalidArticle, match="not valid JSON"):
        parse_article('{"text": ')


def test_annotation_text_must_match_the_document_text() -> None:
    doc = Document(id="a", raw_text="Putin spoke.", text="Putin spoke.")
    doc.entities.append(Entity(start=0, end=5, text="Putin", label="PERSON", canonical="Putin"))
    assert doc.offset_problems() == []
    data = doc.model_dump()
    data["entities"][0]["text"] = "Biden"
    with pytest.raises(ValidationError, match="differs"):
        Document.model_validate(data)


def test_annotation_past_the_end_of_the_text_is_refused() -> None:
    data = Document(id="a", raw_text="short", text="short").model_dump()
    data["entities"] = [{"start": 3, "end": 50, "text": "rt", "label": "X", "canonical": "x"}]
    with pytest.raises(ValidationError, match="past the text's end"):
        Document.model_validate(data)


def test_document_json_round_trips() -> None:
    article = Article(id="x-1", text="Hello world", metadata={"desk": "foreign"})
    doc = Document.from_article(article)
    again = Document.model_validate_json(doc.to_json())
    assert again == doc
    assert json.loads(doc.to_json())["schema_version"] == 1


def test_schema_names_every_contract_field() -> None:
    schema = document_json_schema()
    for field in ("id", "schema_version", "title", "url", "source", "published_at", "language",
                  "metadata", "raw_text", "text", "removed", "entities", "numbers", "quotes",
                  "summary", "runs", "extensions", "status"):
        assert field in schema["properties"], field
