"""The story index (what ``copydesk stories`` and ``GET /v1/stories`` read) and the
``copydesk stories`` command on Document files."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from copydesk import Document, Story
from copydesk.cli import cli
from copydesk.state import SharedState
from copydesk.storyindex import StoryIndex

T0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)


def doc(id: str, story: str | None, hours: float, title: str = "") -> Document:
    when = T0 + timedelta(hours=hours)
    return Document(id=id, raw_text="x", text="x", title=title or None, published_at=when,
                    story=Story(id=story, label=f"about {story}", size=1, first_seen=when)
                    if story else None)


def test_stories_are_listed_newest_first_with_size_and_first_and_last_article() -> None:
    index = StoryIndex(SharedState())
    for d in (doc("a1", "floods", 0, "Rivers rise"), doc("b1", "budget", 1),
              doc("a2", "floods", 2), doc("a3", "floods", 3, "Water recedes"),
              doc("c1", None, 4)):
        index.record(d)
    floods, budget = index.recent()
    assert (floods.id, floods.size, floods.label) == ("floods", 3, "about floods")
    assert (floods.first_article.id, floods.first_article.title) == ("a1", "Rivers rise")
    assert (floods.last_article.id, floods.last_article.title) == ("a3", "Water recedes")
    assert floods.first_seen == T0 and floods.last_seen == T0 + timedelta(hours=3)
    assert (budget.id, budget.size) == ("budget", 1)
    assert index.recent(limit=1) == [floods]


def test_a_merged_story_is_listed_once_under_its_new_id_and_found_by_the_old() -> None:
    index = StoryIndex(SharedState())
    for d in (doc("a1", "s-early", 0), doc("b1", "s-late", 1), doc("b2", "s-late", 2)):
        index.record(d)
    index.redirect("s-late", "s-early", at=(T0 + timedelta(hours=2)).timestamp())
    [story] = index.recent()
    assert (story.id, story.size, story.merged_from) == ("s-early", 3, ["s-late"])
    found = index.get("s-late")
    assert found is not None and [a.id for a in found.articles or []] == ["a1", "b1", "b2"]


def test_a_story_whose_articles_left_the_window_is_gone() -> None:
    index = StoryIndex(SharedState(), window=timedelta(days=1))
    index.record(doc("a1", "old", 0))
    index.record(doc("b1", "new", 30))
    assert [s.id for s in index.recent()] == ["new"] and index.get("old") is None


def write_docs(path: Path, *docs: Document) -> None:
    path.write_text("".join(d.to_json() + "\n" for d in docs), encoding="utf-8")


def test_copydesk_stories_lists_the_stories_of_document_files(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    write_docs(path, doc("a1", "floods", 0), doc("b1", "budget", 1), doc("a2", "floods", 2))
    out = CliRunner().invoke(cli, ["stories", "--json", str(path)])
    assert out.exit_code == 0, out.output
    listed = json.loads(out.output)["stories"]
    assert [(s["id"], s["size"], s["first_article"]["id"], s["last_article"]["id"])
            for s in listed] == [("floods", 2, "a1", "a2"), ("budget", 1, "b1", "b1")]
    table = CliRunner().invoke(cli, ["stories", str(path)])
    assert "floods" in table.output and "a2" in table.output


def test_copydesk_stories_shows_one_story_with_its_articles(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    write_docs(path, doc("a1", "floods", 0), doc("a2", "floods", 2))
    out = CliRunner().invoke(cli, ["stories", "--story", "floods", "--json", str(path)])
    assert [a["id"] for a in json.loads(out.output)["articles"]] == ["a1", "a2"]
    missing = CliRunner().invoke(cli, ["stories", "--story", "nope", str(path)])
    assert missing.exit_code == 1 and "no story 'nope'" in missing.output


def test_a_line_that_is_not_a_document_is_reported_and_the_rest_listed(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_text(doc("a1", "floods", 0).to_json() + "\n{\"id\": 3}\n", encoding="utf-8")
    out = CliRunner().invoke(cli, ["stories", "--json", str(path)])
    assert out.exit_code == 1
    assert "not a Document" in out.output and '"floods"' in out.output


def test_without_files_or_a_shared_state_copydesk_stories_says_what_to_give() -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("COPYDESK_")}
    out = subprocess.run([sys.executable, "-m", "copydesk.cli", "stories"], env={
        **env, "COPYDESK_LOAD_PLUGINS": "cleaning"}, capture_output=True, text=True,
        timeout=120)
    assert out.returncode == 1
    assert "no shared state to read: give Document files" in out.stderr
