"""A small third-party-style plugin for the queue's integration tests: fast stages with
switches in the article text, so a test can make a stage fail or kill its worker process.

It is installed for worker subprocesses by ``conftest.py`` as a distribution with a
``copydesk`` entry point (a ``.dist-info`` on ``PYTHONPATH``), exactly as ``pip`` would.

* ``probe`` counts words into ``extensions["probe"]``, after sleeping ``delay`` seconds
  (config ``[stage.probe] delay``), and SIGKILLs its own process when the text contains
  ``KILL-THE-WORKER``: a poison article; with ``IGNORE-THE-SOFT-LIMIT`` it swallows the
  soft time limit and runs on until the hard limit kills it.
* ``tagstory`` puts an article in the story its ``metadata["story"]`` names (shared state).
* ``fragile`` raises when the text contains ``BREAK-THE-STAGE``.
* ``killonce`` (after ``probe``) SIGKILLs its own process the first time it sees an article
  whose text contains ``KILL-ONCE`` (a marker file per article id in ``[stage.killonce]
  marker_dir`` remembers it did), and records the pid that ran it the next time.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time

from copydesk import Document, Stage, StageConfig, Story, hookimpl

KILL_MARK = "KILL-THE-WORKER"
BREAK_MARK = "BREAK-THE-STAGE"
STUBBORN_MARK = "IGNORE-THE-SOFT-LIMIT"
KILL_ONCE_MARK = "KILL-ONCE"


class ProbeConfig(StageConfig):
    delay: float = 0.0


class ProbeStage(Stage[ProbeConfig]):
    name = "probe"
    requires = ("text",)
    provides = ("probe",)
    description = "Counts words (test plugin); kills its process on a marker."

    def process(self, doc: Document) -> None:
        if self.config.delay:
            time.sleep(self.config.delay)
        if KILL_MARK in doc.text:
            os.kill(os.getpid(), signal.SIGKILL)
        if STUBBORN_MARK in doc.text:  # like C code that never sees the soft time limit
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with contextlib.suppress(BaseException):
                    time.sleep(0.1)
        doc.extensions["probe"] = {"words": len(doc.text.split()), "pid": os.getpid()}


class FragileStage(Stage):
    name = "fragile"
    requires = ("text",)
    provides = ("fragile",)
    description = "Raises on a marker (test plugin)."

    def process(self, doc: Document) -> None:
        if BREAK_MARK in doc.text:
            raise ValueError("the fragile stage broke on purpose")
        doc.extensions["fragile"] = {"ok": True}


class KillOnceConfig(StageConfig):
    marker_dir: str = ""


class KillOnceStage(Stage):
    name = "killonce"
    requires = ("probe",)
    provides = ("killonce",)
    Config = KillOnceConfig
    description = "Kills its process the first time it sees a marked article (test plugin)."

    def process(self, doc: Document) -> None:
        assert isinstance(self.config, KillOnceConfig)
        if KILL_ONCE_MARK in doc.text and self.config.marker_dir:
            marker = os.path.join(self.config.marker_dir, doc.id)
            if not os.path.exists(marker):
                with open(marker, "w") as fh:
                    fh.write(str(os.getpid()))
                os.kill(os.getpid(), signal.SIGKILL)
        doc.extensions["killonce"] = {"pid": os.getpid()}


class TagStoryStage(Stage):
    """Puts an article in the story its ``metadata["story"]`` names, counting each story's
    articles in the shared state (a cross-article stage, as a third party writes one)."""

    name = "tagstory"
    requires = ("text",)
    provides = ("story",)
    cross_article = True

    def process(self, doc: Document) -> None:
        story = doc.metadata.get("story")
        if not isinstance(story, str):
            return
        state = self.services.state
        size = state.space("tagstory").incr("size:" + story, at=state.article_time(doc))
        doc.story = Story(id=story, label=f"story {story}", size=int(size["size:" + story]),
                          first_seen=doc.published_at)


@hookimpl
def register_stages() -> list[type[Stage]]:
    return [ProbeStage, FragileStage, KillOnceStage, TagStoryStage]
