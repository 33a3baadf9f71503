"""Resume after a lost worker: the retry of an article runs only the stages still missing.

The ``killonce`` stage of the probe plugin SIGKILLs its pool process the first time it sees
a marked article, after ``probe`` and ``fragile`` ran. The worker saved the partial Document
after each of them, so the retry's ``runs`` hold the first attempt's runs of those stages
(same pid in ``extensions["probe"]``) and a run of ``killonce`` from another process.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.integration.conftest import BATCH_SIZES, Cluster

pytestmark = [pytest.mark.integration,
              pytest.mark.parametrize("batch_size", BATCH_SIZES, indirect=True)]


def resume_cluster(make_cluster, tmp_path: Path, partial_after: str) -> Cluster:  # type: ignore[no-untyped-def]
    markers = tmp_path / "markers"
    markers.mkdir()
    cluster: Cluster = make_cluster(
        COPYDESK_PIPELINE__STAGES="probe,fragile,killonce",
        COPYDESK_STAGE__KILLONCE__MARKER_DIR=str(markers),
        COPYDESK_WORKER__PARTIAL_AFTER=partial_after,
    )
    cluster.start_worker("resumer", concurrency=1)
    return cluster


def killed_once(cluster: Cluster):  # type: ignore[no-untyped-def]
    client = cluster.client()
    article_id = f"resume-{uuid.uuid4().hex[:8]}"
    client.submit({"id": article_id, "text": "An article that will KILL-ONCE its worker."})
    status = client.wait(article_id, timeout=90)
    assert status is not None and status.status == "done", status
    assert status.attempts == 2
    doc = client.result(article_id)
    assert doc is not None
    return client, doc


def test_a_redelivered_article_resumes_after_the_stages_already_run(
        make_cluster, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cluster = resume_cluster(make_cluster, tmp_path, partial_after="0")
    client, doc = killed_once(cluster)
    assert [r.stage for r in doc.runs] == ["probe", "fragile", "killonce"]
    assert all(r.status == "ok" for r in doc.runs)
    first_pid = doc.extensions["probe"]["pid"]
    assert doc.extensions["killonce"]["pid"] != first_pid  # the retry ran in a new process
    marker = tmp_path / "markers" / doc.id
    assert int(marker.read_text()) == first_pid  # probe ran in the process that was killed
    assert all(r.worker == f"resumer@{cluster.prefix}" for r in doc.runs)
    assert client.store.load_partial(doc.id) is None  # dropped once finished


def test_without_partial_saving_the_retry_starts_over(
        make_cluster, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cluster = resume_cluster(make_cluster, tmp_path, partial_after="3600")
    _, doc = killed_once(cluster)
    assert [r.stage for r in doc.runs] == ["probe", "fragile", "killonce"]
    assert doc.extensions["probe"]["pid"] == doc.extensions["killonce"]["pid"]


def test_a_partial_is_saved_only_by_the_submission_holding_the_article(
        make_cluster) -> None:  # type: ignore[no-untyped-def]
    store = make_cluster().client().store
    article_id = f"partial-{uuid.uuid4().hex[:8]}"
    article = {"id": article_id, "text": "Some text."}
    store.submit(article_id, article, "task-1")
    assert not store.save_partial(article_id, "task-1", 1, '{"id": "x"}')  # queued, not held
    assert store.claim(article_id, "task-1", "w@h", "w@h:1", article).action == "run"
    assert not store.save_partial(article_id, "task-0", 1, "{}")  # an older submission
    assert store.save_partial(article_id, "task-1", 1, '{"id": "x"}', stage="probe")
    saved = store.load_partial(article_id, "task-1")
    assert saved is not None and (saved.attempt, saved.stage) == (1, "probe")
    assert store.load_partial(article_id, "task-2") is None  # a newer submission's view
