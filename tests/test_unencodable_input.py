"""Input that JSON allows but nothing downstream can carry: lone surrogates, deep nesting,
non-JSON values. Each door refuses the bad article alone, with a reason, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from copydesk.cli import cli
from copydesk.document import Article, ArticleRules, InvalidArticle, parse_article
from copydesk.jsonsafe import MAX_DEPTH, NestedTooDeep, UnsafeJSON, loads, printable
from copydesk.settings import Settings
from copydesk.workers.gateway.body import parse_articles
from copydesk.workers.gateway.models import GatewayError
from copydesk.workers.queue.client import Client

LONE_SURROGATE = '{"text": "abc \\ud800 def"}'  # the JSON escape, as a producer sends it


def deep_json(levels: int) -> str:
    return '{"text": "ok", "metadata": ' + '{"a": ' * levels + "1" + "}" * levels + "}"


def deep_dict(levels: int) -> dict[str, object]:
    value: object = 1
    for _ in range(levels):
        value = {"a": value}
    return {"text": "ok", "metadata": value}


def test_a_lone_surrogate_in_the_text_is_refused_with_where_it_is() -> None:
    with pytest.raises(InvalidArticle, match=r"text: holds a lone surrogate \(\\ud800 at "
                                              r"character 4\)"):
        parse_article(LONE_SURROGATE)


@pytest.mark.parametrize("field", ["title", "url", "source"])
def test_a_lone_surrogate_in_any_text_field_is_refused(field: str) -> None:
    with pytest.raises(InvalidArticle, match=f"{field}: holds a lone surrogate"):
        parse_article({"text": "fine", field: "bad \udfff"})


def test_a_lone_surrogate_in_a_metadata_key_is_refused() -> None:
    with pytest.raises(InvalidArticle, match="metadata: a key holds a lone surrogate"):
        parse_article({"text": "fine", "metadata": {"desk\ud83d": "world"}})


def test_a_json_string_nested_100000_deep_is_refused_not_a_recursion_error() -> None:
    with pytest.raises(InvalidArticle, match="nested too deeply to parse"):
        parse_article(deep_json(100_000))


def test_metadata_nested_past_the_limit_is_refused_with_a_short_path() -> None:
    with pytest.raises(InvalidArticle, match=f"nested deeper than {MAX_DEPTH} levels") as exc:
        parse_article(deep_dict(100_000))
    assert len(str(exc.value)) < 200


def test_metadata_nested_within_the_limit_is_kept() -> None:
    article = parse_article(deep_dict(MAX_DEPTH - 1))
    assert json.loads(article.model_dump_json())["metadata"]["a"]["a"]


def test_nan_is_not_json() -> None:
    with pytest.raises(InvalidArticle, match="NaN is not a JSON number"):
        parse_article('{"text": "ok", "metadata": {"score": NaN}}')


def test_an_object_json_cannot_write_is_refused_in_metadata() -> None:
    with pytest.raises(InvalidArticle, match="metadata: cannot be written as JSON"):
        parse_article({"text": "ok", "metadata": {"handle": object()}})


def test_safe_loads_raises_its_own_errors_only() -> None:
    with pytest.raises(NestedTooDeep):
        loads("[" * 100_000)
    with pytest.raises(UnsafeJSON, match="not UTF-8"):
        loads(b'{"text": "\xff"}')


def test_printable_escapes_surrogates_so_the_text_encodes() -> None:
    assert printable("a\ud800b").encode("utf-8") == b"a\\ud800b"


# -- copydesk process -------------------------------------------------------------------


def test_process_refuses_the_unencodable_files_and_still_prints_the_good_one(
        tmp_path: Path) -> None:
    bad, deep, good = tmp_path / "a.json", tmp_path / "deep.json", tmp_path / "ok.json"
    bad.write_text(LONE_SURROGATE)
    deep.write_text(deep_json(100_000))
    good.write_text('{"id": "ok-1", "text": "Ministers met in Istanbul."}')
    result = CliRunner().invoke(cli, ["--stages", "", "process", str(bad), str(deep),
                                      str(good), "--format", "jsonl"], catch_exceptions=False)
    assert result.exit_code == 1
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["ok-1"]
    assert f"{bad}: text: holds a lone surrogate" in result.stderr
    assert f"{deep}: nested too deeply to parse" in result.stderr
    assert "Traceback" not in result.output


# -- the Python client (no Redis needed: refusals happen before any Redis call) ----------


def offline_client() -> Client:
    return Client(Settings(redis_url="redis://127.0.0.1:9/0"))


def test_client_submit_raises_invalid_article_for_a_lone_surrogate() -> None:
    with pytest.raises(InvalidArticle, match="lone surrogate"):
        offline_client().submit(LONE_SURROGATE)


def test_client_submit_refuses_an_unvalidated_article_it_cannot_encode() -> None:
    built = Article.model_construct(id="mc-1", text="abc\ud800", metadata={})
    with pytest.raises(InvalidArticle, match=r"lone surrogate .* \(at article.text\)"):
        offline_client().submit(built)


def test_client_submit_many_of_only_bad_articles_says_why_for_each() -> None:
    results = offline_client().submit_many([LONE_SURROGATE, deep_dict(100_000),
                                            deep_json(100_000), 7])
    assert [r.outcome for r in results] == ["invalid"] * 4
    assert ["lone surrogate" in (results[0].error or ""),
            "nested deeper" in (results[1].error or ""),
            "nested too deeply" in (results[2].error or ""),
            "JSON object" in (results[3].error or "")] == [True] * 4


# -- the gateway's body parser ------------------------------------------------------------


def refusal(body: bytes, content_type: str = "application/json") -> GatewayError:
    with pytest.raises(GatewayError) as caught:
        parse_articles(body, content_type, 10, ArticleRules(10_000))
    return caught.value


def test_gateway_refuses_a_lone_surrogate_with_422_and_an_encodable_message() -> None:
    error = refusal(LONE_SURROGATE.encode())
    assert (error.status, error.code) == (422, "invalid_article")
    assert "\\ud800" in error.message
    error.response().body.decode("utf-8")  # encodes: no surrogate leaks into the reply


def test_gateway_refuses_a_surrogate_in_an_unknown_field_name_encodably() -> None:
    error = refusal(b'{"text": "ok", "\\udc80x": 1}')
    assert error.status == 422
    assert json.loads(error.response().body)["error"]["code"] == "invalid_article"


def test_gateway_refuses_a_body_nested_100000_deep_with_400_nested_too_deep() -> None:
    error = refusal(deep_json(100_000).encode())
    assert (error.status, error.code) == (400, "nested_too_deep")


def test_gateway_refuses_a_json_line_nested_100000_deep() -> None:
    body = b'{"text": "fine"}\n' + deep_json(100_000).encode() + b"\n"
    error = refusal(body, "application/x-ndjson")
    assert (error.status, error.code) == (400, "nested_too_deep")
    assert error.message.startswith("line 2 is nested too deeply")


def test_gateway_refuses_metadata_past_the_depth_limit_with_422() -> None:
    error = refusal(deep_json(MAX_DEPTH + 5).encode())
    assert (error.status, error.code) == (422, "invalid_article")
    assert f"nested deeper than {MAX_DEPTH} levels" in error.message
