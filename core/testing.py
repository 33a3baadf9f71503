"""A test kit for stage authors: run one stage on a text, check the Document it gives.

::

    from copydesk.testing import assert_valid_document, run_stage

    def test_tone_marks_hedges() -> None:
        doc = run_stage("tone", "The minister reportedly resigned.")
        assert doc.extensions["tone"]["hedges"][0]["text"] == "reportedly"
        assert_valid_document(doc)

``run_stream`` runs a stage on several articles in order (a cross-article stage sees the
earlier ones). ``run_stage`` builds a pipeline of just that stage and what it needs: each capability
it ``requires`` comes from ``layers`` when the test passes it in, else from an installed
stage that provides it (and, in turn, what that one requires). A stage class that is not
installed (yet) may be passed instead of a name. When a stage fails, the exception it
raised is raised again, with its original traceback; a failure the pipeline found (an
invalid layer, bad offsets) raises ``StageFailed`` with the pipeline's message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from copydesk.document import (
    Article,
    Document,
    Entity,
    Heading,
    NumberMention,
    Quote,
    Reuse,
    Story,
    Summary,
    describe_validation_error,
)
from copydesk.hookspecs import hookimpl
from copydesk.layers import span_problems
from copydesk.pipeline import BASE_CAPABILITIES, Pipeline
from copydesk.plugin_manager import PluginManager, StageEntry, build_plugin_manager
from copydesk.settings import Settings
from copydesk.stage import Stage
from pydantic import BaseModel, TypeAdapter, ValidationError

__all__ = ["StageFailed", "assert_valid_document", "run_stage", "run_stream"]

#: Capabilities that are fields of the Document, with their types; any other capability
#: lives in ``extensions``.
FIELD_LAYERS: dict[str, Any] = {
    "headings": list[Heading], "entities": list[Entity], "numbers": list[NumberMention],
    "quotes": list[Quote], "summary": Summary | None, "reuse": Reuse | None,
    "story": Story | None,
}
_GIVEN = "given_layers"


class StageFailed(AssertionError):
    """A stage did not complete: the pipeline refused its output, or it was skipped."""


class _Plugin:
    def __init__(self, *stages: type[Stage]) -> None:
        self.stages = list(stages)

    @hookimpl
    def register_stages(self) -> list[type[Stage]]:
        return self.stages


def run_stage(
    stage: str | type[Stage],
    text: str | Article,
    *,
    layers: Mapping[str, Any] | None = None,
    config: Mapping[str, Any] | None = None,
    settings: Settings | None = None,
    **article: Any,
) -> Document:
    """Run ``stage`` (a name or a class) on ``text`` and return the finished Document.

    ``layers`` maps capabilities to layers the test provides instead of running their
    stages: ``entities``, ``numbers``, ``quotes``, ``headings`` (lists of annotations or
    of dicts), ``summary``, or any other capability, which goes to ``extensions[name]``.
    Their offsets refer to ``text``. ``config`` is the stage's settings section;
    ``article`` takes further ``Article`` fields (``title``, ``published_at``…).
    """
    given = dict(layers or {})
    pipeline = _pipeline_for(stage, given, config, settings)
    raised = _capture_exceptions(pipeline)
    source = text if isinstance(text, Article) else Article(text=text, **article)
    doc = Document.from_article(source)
    _put_layers(doc, given)
    doc = pipeline.process(doc)
    _raise_first_failure(doc, raised)
    return doc


def run_stream(
    stage: str | type[Stage],
    articles: Sequence[str | Article],
    *,
    config: Mapping[str, Any] | None = None,
    settings: Settings | None = None,
) -> list[Document]:
    """Run ``stage`` (and what it requires) on several articles in order, in one pipeline,
    and return the finished Documents: a cross-article stage sees the earlier ones in
    ``services.state``. A text is an article of its own; an ``Article`` gives its fields
    (``id``, ``published_at``…). The first failure is raised as in ``run_stage``."""
    pipeline = _pipeline_for(stage, {}, config, settings)
    raised = _capture_exceptions(pipeline)
    docs = []
    for item in articles:
        doc = pipeline.process(item if isinstance(item, Article) else Article(text=item))
        _raise_first_failure(doc, raised)
        docs.append(doc)
    return docs


def _pipeline_for(stage: str | type[Stage], given: Mapping[str, Any],
                  config: Mapping[str, Any] | None, settings: Settings | None) -> Pipeline:
    """A pipeline of ``stage`` and one provider of each capability it needs that is not
    ``given``."""
    base = settings or Settings()
    manager = build_plugin_manager(base)
    name = stage if isinstance(stage, str) else stage.name
    entries = {e.stage.name: e for e in manager.stages()}
    if not isinstance(stage, str) and (name not in entries or entries[name].stage is not stage):
        if name in entries:  # a test of a changed class: it replaces the installed one
            manager = PluginManager(load=base.load_plugins,
                                    disable=[*base.disable_plugins, entries[name].plugin])
            manager.load_entry_points()
        manager.register(_Plugin(stage), f"test-{name}")
        entries = {e.stage.name: e for e in manager.stages()}
    if name not in entries:
        broken = "; ".join(f"{b.name}: {b.error}" for b in manager.broken)
        raise StageFailed(f"stage {name!r} is not installed (installed: "
                          f"{', '.join(sorted(entries)) or 'none'})"
                          + (f"; broken plugins: {broken}" if broken else ""))
    chosen = _with_requirements(entries[name], list(entries.values()), set(given))
    if given:
        manager.register(_Plugin(_given_stage(tuple(given))), _GIVEN)
    run_settings = base.model_copy(deep=True)
    run_settings.pipeline.stages = [_GIVEN, *chosen] if given else chosen
    run_settings.pipeline.disabled = []
    run_settings.pipeline.required = []
    if config is not None:
        run_settings.stage[name] = dict(config)
    pipeline = Pipeline.build(run_settings, manager)
    return pipeline


def _with_requirements(
    target: StageEntry, installed: Sequence[StageEntry], given: set[str]
) -> list[str]:
    """The target stage and, transitively, one installed provider of each requirement."""
    chosen: list[str] = []
    have = set(given) | BASE_CAPABILITIES

    def need(entry: StageEntry, path: tuple[str, ...]) -> None:
        for cap in entry.stage.requires:
            if cap in have:
                continue
            provider = next((e for e in installed if cap in e.stage.provides
                             and e.stage.name not in path), None)
            if provider is None:
                raise StageFailed(
                    f"stage {target.stage.name!r} needs {cap!r}, which no installed stage "
                    f"provides: pass it in, run_stage(..., layers={{{cap!r}: ...}})")
            have.update(provider.stage.provides)
            need(provider, (*path, provider.stage.name))
            chosen.append(provider.stage.name)
        have.update(entry.stage.provides)

    need(target, (target.stage.name,))
    return [*chosen, target.stage.name]


def _given_stage(caps: tuple[str, ...]) -> type[Stage]:
    class GivenLayers(Stage):
        """Stands for the stages whose layers the test passed in (they are already set)."""

        name = _GIVEN
        provides = caps

        def process(self, doc: Document) -> None:
            pass

    return GivenLayers


def _put_layers(doc: Document, given: Mapping[str, Any]) -> None:
    for cap, value in given.items():
        if cap == "text":
            raise StageFailed("pass the text as run_stage's second argument, not in layers")
        if cap in FIELD_LAYERS:
            try:
                setattr(doc, cap, TypeAdapter(FIELD_LAYERS[cap]).validate_python(value))
            except ValidationError as exc:
                raise StageFailed(f"layers[{cap!r}]: {describe_validation_error(exc)}") from None
        else:
            doc.extensions[cap] = (value.model_dump(mode="json")
                                   if isinstance(value, BaseModel) else value)
    problems = doc.offset_problems() + [
        p for key, value in doc.extensions.items() for p in span_problems(key, value, doc.text)
    ]
    if problems:
        raise StageFailed("the layers passed in do not fit the text: " + "; ".join(problems[:3]))


def _capture_exceptions(pipeline: Pipeline) -> dict[str, BaseException]:
    """Wrap each stage's process methods so the exception a stage raised is kept."""
    raised: dict[str, BaseException] = {}
    for bound in pipeline.stages:
        instance = bound.stage
        for method in ("process", "process_batch"):
            setattr(instance, method, _keeping(getattr(instance, method), bound.name, raised))
    return raised


def _keeping(fn: Callable[..., None], name: str,
             raised: dict[str, BaseException]) -> Callable[..., None]:
    def call(*args: Any) -> None:
        try:
            fn(*args)
        except Exception as exc:
            raised.setdefault(name, exc)
            raise

    return call


def _raise_first_failure(doc: Document, raised: Mapping[str, BaseException]) -> None:
    for run in doc.runs:
        if run.status == "failed":
            exc = raised.get(run.stage)
            if exc is not None:
                exc.add_note(f"(raised by copydesk stage {run.stage!r} in run_stage)")
                raise exc
            raise StageFailed(f"stage {run.stage!r} failed: {run.error}")
    for run in doc.runs:
        if run.status == "skipped":
            raise StageFailed(f"stage {run.stage!r} was skipped: {run.error}")


def assert_valid_document(
    doc: Document, layers: Mapping[str, type[BaseModel]] | None = None
) -> None:
    """Fail with every problem found unless ``doc`` is a valid Document.

    Valid means: its JSON reads back as a Document (schema and built-in offsets), every
    span in ``extensions`` fits the text, and each typed layer matches its model
    (``layers`` maps stage names to models; by default the installed stages' ``Layer``).
    """
    problems: list[str] = []
    try:
        Document.model_validate_json(doc.to_json())
    except ValidationError as exc:
        problems.append(f"the Document JSON does not validate: {describe_validation_error(exc)}")
    for key, value in doc.extensions.items():
        problems.extend(span_problems(key, value, doc.text))
    if layers is None:
        manager = build_plugin_manager(Settings())
        layers = {e.stage.name: e.stage.Layer for e in manager.stages() if e.stage.Layer}
    for key, model in layers.items():
        if key in doc.extensions:
            try:
                model.model_validate(doc.extensions[key])
            except ValidationError as exc:
                problems.append(f"extensions[{key!r}] is not a valid {model.__name__}: "
                                f"{describe_validation_error(exc)}")
    if problems:
        raise AssertionError(f"document {doc.id} is not valid:\n  - " + "\n  - ".join(problems))
