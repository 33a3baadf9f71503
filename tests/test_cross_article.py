"""Cross-article stages: they see articles in input order, and ``-j N`` runs them in the
parent, so what they write is the same for any number of processes."""

from __future__ import annotations

from copydesk import Article, Document, Pipeline, Stage
from copydesk.parallel import process_parallel

from tests.helpers import Plugin, TextStage, build


class SeenStage(Stage):
    """Per article: how many earlier articles started with the same word (shared state)."""

    name = "seen"
    provides = ("seen",)
    cross_article = True

    def process(self, doc: Document) -> None:
        space = self.services.state.space("seen")
        at = self.services.state.article_time(doc)
        key = "first:" + doc.text.split()[0].lower()
        earlier = space.members(key)[key]
        space.add({key: [doc.id]}, at=at)
        doc.extensions["seen"] = earlier


class AfterSeenStage(Stage):
    """Reads what the cross-article stage wrote, so it must run after it."""

    name = "after_seen"
    requires = ("seen",)
    provides = ("after_seen",)

    def process(self, doc: Document) -> None:
        doc.extensions["after_seen"] = len(doc.extensions["seen"])


WORDS = ["Rain", "Sun", "rain", "Snow", "sun", "Rain"]


def articles(n: int = 60) -> list[Article]:
    return [Article(id=f"a{i:03d}", text=f"{WORDS[i % len(WORDS)]} fell on day {i}.")
            for i in range(n)]


def without_timings(docs: list[Document]) -> list[dict[str, object]]:
    out = []
    for doc in docs:
        data = doc.model_dump(mode="json")
        for run in data["runs"]:
            run.pop("duration_ms")
        out.append(data)
    return out


def test_a_cross_article_stage_sees_the_articles_before_it_in_input_order() -> None:
    docs = list(build(SeenStage).iter_process(articles(8), batch_size=3))
    assert [d.extensions["seen"] for d in docs[:6]] == [[], [], ["a000"], [], ["a001"],
                                                         ["a000", "a002"]]


def test_cross_article_stages_and_what_reads_them_are_deferred() -> None:
    pipeline = build(AfterSeenStage, SeenStage, TextStage)
    assert pipeline.deferred == ["seen", "after_seen"]


def test_two_and_three_processes_write_what_one_process_writes() -> None:
    one = list(build(SeenStage, AfterSeenStage, TextStage).iter_process(articles(),
                                                                        batch_size=7))
    for jobs in (2, 3):
        many = list(process_parallel(build(SeenStage, AfterSeenStage, TextStage), articles(),
                                     jobs, chunk=4))
        assert without_timings(many) == without_timings(one)


def test_a_deferred_run_keeps_the_pipeline_order_of_runs() -> None:
    pipeline = build(SeenStage, AfterSeenStage, TextStage)
    [doc] = pipeline.run_deferred(pipeline.process_many(articles(1), defer=True))
    assert [r.stage for r in doc.runs] == ["strip", "seen", "after_seen"]
    assert doc.status == "done"


def test_hook_shared_state_is_the_backend_workers_give_cross_article_stages() -> None:
    from copydesk import Settings, hookimpl
    from copydesk.cli.stories import shared_index
    from copydesk.plugin_manager import PluginManager
    from copydesk.state import MemoryState
    from copydesk.workers.worker.context import share_state

    shared = MemoryState()

    class SharedStatePlugin:
        @hookimpl
        def shared_state(self, settings: Settings) -> MemoryState:
            return shared

    manager = PluginManager(load=[])
    manager.register(SharedStatePlugin(), "shared")
    manager.register(Plugin(SeenStage), "test")
    pipeline = Pipeline.build(Settings(), manager)
    share_state(pipeline, pipeline.settings)
    pipeline.process(Article(id="x1", text="Rain again."))
    assert shared.size("seen") == 1  # the stage wrote to the plugin's backend

    class State:
        plugins, settings = manager, pipeline.settings

    assert shared_index(State()).state.backend is shared
