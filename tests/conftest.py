"""Shared fixtures: the frozen sample article, settings and a built pipeline.

Every test that starts servers (those under ``integration/``, ``multihost/`` and
``browser/``: Redis, workers, a gateway, Chromium, network namespaces; and every test of a
real PostgreSQL) is marked ``slow`` here, so ``pytest -m "not slow"`` is the fast subset a
contributor runs before each commit (README, "Two commands"); any other test that takes
more than a second or two is marked ``slow`` where it is defined.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from copydesk import Pipeline, Settings
from copydesk.document import Article, Document

DATA = Path(__file__).parent / "data"
#: Folders whose every test starts real processes: all of them are ``slow``.
PROCESS_FOLDERS = ("integration", "multihost", "browser")
#: ../shared next to the repository, or COPYDESK_SHARED_DIR (a worktree elsewhere).
SHARED = Path(os.environ.get("COPYDESK_SHARED_DIR")
              or Path(__file__).resolve().parents[1].parent / "shared")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        parts = item.path.relative_to(here).parts if item.path.is_relative_to(here) else ()
        starts_servers = ((bool(parts) and parts[0] in PROCESS_FOLDERS)
                          or item.get_closest_marker("postgres") is not None
                          or "postgres_server" in getattr(item, "fixturenames", ()))
        if starts_servers:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def sample_text() -> str:
    """The Istanbul peace-talks article, as pasted from a web page (furniture included)."""
    return (DATA / "istanbul-peace-talks.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def sample_article(sample_text: str) -> Article:
    return Article.model_validate({"text": sample_text, "published_at": "2025-06-01T09:00:00+00:00"})


@pytest.fixture(scope="session")
def pipeline() -> Pipeline:
    """The default pipeline of every installed stage, set up once for the session."""
    built = Pipeline.build(Settings())
    built.setup()
    return built


@pytest.fixture(scope="session")
def sample_doc(pipeline: Pipeline, sample_article: Article) -> Document:
    """The sample article run through the full default pipeline."""
    return pipeline.process(sample_article)


def shared_path(*parts: str) -> Path:
    """A path under ../shared (eval data, corpus); tests skip when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not available")
    return path


@pytest.fixture(scope="session")
def postgres_server():  # type: ignore[no-untyped-def]
    """A private PostgreSQL server for the session (tests/postgres_server.py)."""
    from tests.postgres_server import PostgresServer

    server = PostgresServer()
    yield server
    server.close()


@pytest.fixture
def pg_url(postgres_server) -> str:  # type: ignore[no-untyped-def]
    """The URL of a fresh, empty database on the session's PostgreSQL."""
    return str(postgres_server.new_database())
