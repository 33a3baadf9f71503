"""The pipeline: stages from installed plugins, resolved once, run on documents.

Building checks everything that can be checked before a document arrives: unknown
stage names, invalid stage config, missing capabilities and cycles are refused with
a ``PipelineError`` that names the stage and what would fix it. Running isolates
failures: a stage that raises is recorded in ``runs`` and the document goes on,
unless the stage is required.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from copydesk import language
from copydesk.document import Article, Document, InvalidArticle, StageRun
from copydesk.layers import LayerError, check_layer
from copydesk.logs import get_logger
from copydesk.nlp import SharedParse, model_hint, primary_language
from copydesk.order import BASE_CAPABILITIES as BASE_CAPABILITIES
from copydesk.order import TEXT
from copydesk.order import PipelineError as PipelineError
from copydesk.order import resolve_order as resolve_order
from copydesk.plugin_manager import PluginManager, build_plugin_manager
from copydesk.provenance import (
    PipelineSpec,
    Plan,
    StageSpec,
    clear_layers,
    config_hash,
    latest_runs,
    model_identity,
    plan,
)
from copydesk.settings import Settings, stage_config_problems
from copydesk.stage import Services, Stage
from copydesk.storyindex import StoryIndex
from pydantic import ValidationError

log = get_logger("copydesk.pipeline")

@dataclass(frozen=True)
class RunObserver:
    """What one call of the pipeline reports to its caller (a worker) as it goes.

    ``worker`` is recorded in every run the call makes (None in-process).
    ``stage_started`` is called with (stage name, documents) just before a stage runs on
    them (workers publish the stage an article is in); ``stage_finished`` after a stage ran
    or was skipped on them (workers save partial Documents). Neither may raise.
    """

    worker: str | None = None
    stage_started: Callable[[str, Sequence[Document]], None] | None = None
    stage_finished: Callable[[str, Sequence[Document]], None] | None = None


#: The observer of a call that is given none: in-process, nothing to report.
UNOBSERVED = RunObserver()


@dataclass
class BoundStage:
    """A configured stage instance with its provenance."""

    stage: Stage
    plugin: str
    version: str
    required: bool
    #: What this stage's runs record as provenance (set by ``Pipeline``).
    spec: StageSpec | None = None

    @property
    def name(self) -> str:
        return self.stage.name


class Pipeline:
    """An ordered list of configured stages plus the shared services they use."""

    def __init__(
        self,
        stages: list[BoundStage],
        services: Services,
        settings: Settings,
        plugins: PluginManager | None = None,
    ) -> None:
        self.stages = stages
        self.services = services
        self.settings = settings
        self.plugins = plugins
        self._ready_stages: set[str] = set()
        #: Exceptions that end the whole run instead of failing one stage: a worker's
        #: soft time limit must reach the worker, not be recorded and parsed past.
        self.interrupts: tuple[type[BaseException], ...] = ()
        self.spec = self._make_spec()

    @classmethod
    def build(
        cls,
        settings: Settings | None = None,
        plugins: PluginManager | None = None,
    ) -> Pipeline:
        """Resolve stages from installed plugins per ``settings``; raise ``PipelineError``."""
        settings = settings or Settings()
        plugins = plugins or build_plugin_manager(settings)
        entries = plugins.stages()
        services = Services(SharedParse(settings.spacy.model, settings.spacy.max_tokens,
                                        settings.spacy.models))
        ordered = resolve_order(entries, settings, plugins)
        bound = []
        for entry in ordered:
            raw = settings.stage.get(entry.stage.name, {})
            try:
                config = entry.stage.Config.model_validate(raw)
            except ValidationError as exc:
                raise PipelineError(
                    f"invalid config for stage {entry.stage.name!r} "
                    f"(plugin {entry.plugin!r}): "
                    + stage_config_problems(exc, entry.stage.name, entry.stage.Config,
                                            settings.config_file)
                ) from None
            bound.append(
                BoundStage(
                    stage=entry.stage(config, services),
                    plugin=entry.plugin,
                    version=entry.stage.version or entry.version,
                    required=entry.stage.name in settings.pipeline.required,
                )
            )
        unknown_cfg = set(settings.stage) - {e.stage.name for e in entries}
        if unknown_cfg:
            log.warning("config for stages that are not installed", stages=sorted(unknown_cfg))
        return cls(bound, services, settings, plugins)

    @property
    def names(self) -> list[str]:
        return [b.name for b in self.stages]

    def _make_spec(self) -> PipelineSpec:
        """Today's pipeline as provenance data; sets each ``BoundStage.spec``."""
        model = model_identity(self.services.shared_parse.model_name)
        per_plugin: dict[str, int] = {}
        for bound in self.stages:
            per_plugin[bound.plugin] = per_plugin.get(bound.plugin, 0) + 1
        for bound, upstream in zip(self.stages, stage_upstream(self.stages), strict=True):
            bound.spec = StageSpec(
                name=bound.name, plugin=bound.plugin, version=bound.version,
                config_hash=config_hash(bound.stage.config),
                model=model if bound.stage.uses_parse else None,
                provides=tuple(bound.stage.provides), upstream=upstream,
                sole_stage_of_plugin=per_plugin[bound.plugin] == 1,
            )
        return PipelineSpec(tuple(b.spec for b in self.stages if b.spec is not None))

    def plan(self, doc: Document) -> Plan:
        """Which stages of this pipeline ``doc`` needs re-run, and why (``provenance.plan``)."""
        return plan(doc, self.spec)

    def setup(self, only: Iterable[str] | None = None) -> None:
        """Run every stage's ``setup()`` once (models load here); idempotent. With ``only``,
        just those stages (a worker serving routed queues loads no other stage's models)."""
        wanted = [b for b in self.stages
                  if b.name not in self._ready_stages and (only is None or b.name in set(only))]
        if not wanted:
            return
        if any(b.stage.uses_parse for b in wanted):
            # load every configured model before any stage needs one
            self.services.shared_parse.load_all()
        if self.settings.detect_language:
            language.warm_up()
        for bound in wanted:
            started = time.perf_counter()
            bound.stage.setup()
            self._ready_stages.add(bound.name)
            log.debug("stage ready", stage=bound.name,
                      duration_ms=round((time.perf_counter() - started) * 1000, 1))

    def process(self, article: Article | Document,
                observer: RunObserver = UNOBSERVED) -> Document:
        """Run every stage on one article and return the finished document."""
        return self.process_many([article], observer)[0]

    def process_many(self, articles: Sequence[Article | Document],
                     observer: RunObserver = UNOBSERVED, defer: bool = False
                     ) -> list[Document]:
        """Run the stages on a batch: each stage sees the whole batch at once. With
        ``defer``, the ``deferred`` stages are left out (they are not recorded at all) and
        the documents are not yet finished: ``run_deferred`` completes them."""
        docs = [a if isinstance(a, Document) else Document.from_article(a) for a in articles]
        skip = set(self.deferred) if defer else set()
        return self._run(docs, None, final=not skip, skip=skip, observer=observer)

    @property
    def deferred(self) -> list[str]:
        """The cross-article stages and every stage that reads what they provide, in order:
        what ``process -j N`` runs in the parent, on articles in input order."""
        out: list[str] = []
        for bound, upstream in zip(self.stages, stage_upstream(self.stages), strict=True):
            if bound.stage.cross_article or any(u in out for u in upstream):
                out.append(bound.name)
        return out

    def run_deferred(self, docs: Sequence[Document],
                     observer: RunObserver = UNOBSERVED) -> list[Document]:
        """Finish documents that ``process_many(..., defer=True)`` left: run the deferred
        stages on them (in the order given) and count them as finished."""
        later = set(self.deferred)
        docs = list(docs)
        if not later:
            return docs
        self._run(docs, {id(d): set(later) for d in docs}, observer=observer)
        order = {name: i for i, name in enumerate(self.names)}
        for doc in docs:
            doc.runs.sort(key=lambda r: order.get(r.stage, len(order)))
        return docs

    def reprocess(self, doc: Document,
                  observer: RunObserver = UNOBSERVED) -> tuple[Document, Plan]:
        """Re-run only what ``plan(doc)`` says must run; see ``reprocess_many``."""
        [(out, todo)] = self.reprocess_many([doc], observer)
        return out, todo

    def reprocess_many(self, docs: Sequence[Document],
                       observer: RunObserver = UNOBSERVED) -> list[tuple[Document, Plan]]:
        """Bring Documents up to today's pipeline: remove exactly the layers (and runs) of the
        stale, missing, failed and removed stages, and run only those stages; every other
        layer stays as it was. Raises ``ReprocessError`` when a text stage must run again
        on a Document that does not hold its input (it came from HTML)."""
        plans = [self.plan(doc) for doc in docs]
        for doc, todo in zip(docs, plans, strict=True):
            if todo.needs_source:
                raise ReprocessError(
                    f"document {doc.id}: the stage providing 'text' must run again, but the "
                    "Document does not keep the HTML it was extracted from; submit the "
                    "article again instead")
        changed = [(d, p) for d, p in zip(docs, plans, strict=True) if p.changes]
        extension_order = {id(doc): list(doc.extensions) for doc, _ in changed}
        for doc, todo in changed:
            gone = [r for r in doc.runs if r.stage in set(todo.removed)]
            clear_layers(doc, [b.spec for b in self.stages
                               if b.spec is not None and b.name in set(todo.to_run)], self.spec)
            clear_layers(doc, gone, self.spec)
        if changed:
            self._run([d for d, _ in changed], {id(d): set(p.to_run) for d, p in changed},
                      observer=observer)
        for doc, _ in changed:
            order = {name: i for i, name in enumerate(self.names)}
            doc.runs.sort(key=lambda r: order.get(r.stage, len(order)))
            before = extension_order[id(doc)]
            doc.extensions = {k: doc.extensions[k] for k in
                              [*[k for k in before if k in doc.extensions],
                               *[k for k in doc.extensions if k not in before]]}
        return list(zip(docs, plans, strict=True))

    def run_segment(self, docs: Sequence[Document], names: Iterable[str], final: bool,
                    observer: RunObserver = UNOBSERVED) -> None:
        """Run the stages ``names`` (one routed segment) on each of ``docs`` where it has no
        current run of them, after removing exactly their layers; every other layer stays.
        Only a ``final`` segment counts as the documents finishing (``document_finished``);
        after any other the shared parse is kept, for the caller to carry on or release."""
        wanted = set(names)
        todo: dict[int, set[str]] = {}
        for doc in docs:
            mine = {n for n in self.plan(doc).to_run if n in wanted}
            todo[id(doc)] = mine
            if mine:
                clear_layers(doc, [b.spec for b in self.stages
                                   if b.spec is not None and b.name in mine], self.spec)
                doc.runs = [r for r in doc.runs if r.stage not in mine]
        self._run(list(docs), todo, final=final, keep_parse=not final, observer=observer)
        order = {name: i for i, name in enumerate(self.names)}
        for doc in docs:
            doc.runs.sort(key=lambda r: order.get(r.stage, len(order)))

    def resume(self, doc: Document, observer: RunObserver = UNOBSERVED) -> Document:
        """Finish a partial Document (saved by a worker between stages): run the stages it
        has no current run of, keep the rest."""
        return self.reprocess(doc, observer)[0]

    def _run(self, docs: list[Document], todo: dict[int, set[str]] | None,
             final: bool = True, keep_parse: bool = False,
             skip: set[str] | frozenset[str] = frozenset(),
             observer: RunObserver = UNOBSERVED) -> list[Document]:
        """Run the stages on ``docs``; with ``todo``, only the named stages per document
        (the others keep their runs, which still count for what later stages need); the
        stages in ``skip`` are passed over without a trace (``run_deferred`` runs them)."""
        self.setup(None if todo is None else {n for names in todo.values() for n in names})
        known = {id(doc): len(doc.runs) for doc in docs}  # runs made before this call
        for doc in docs:
            doc.status = "running"
        failed_caps: dict[int, dict[str, str]] = {id(d): {} for d in docs}
        #: Documents that cannot go on, with the reason later stages are skipped.
        halted: dict[int, str] = {}
        for bound in self.stages:
            if bound.name in skip:
                continue
            if TEXT not in bound.stage.provides and todo is None:
                self._settle_languages(docs, halted)  # the text is final from here on
            runnable = self._runnable(bound, docs, todo, failed_caps, halted)
            if not runnable:
                continue
            if observer.stage_started is not None:
                observer.stage_started(bound.name, runnable)
            if bound.stage.uses_parse:
                runnable = self._parse(bound, runnable, failed_caps, halted)
            if runnable:
                self._run_stage(bound, runnable, failed_caps, halted)
            _stamp(docs, known, observer.worker)
            if observer.stage_finished is not None:
                observer.stage_finished(bound.name, docs)
        if todo is None:  # a reprocessed Document keeps the language it has
            self._settle_languages(docs, halted)
        _stamp(docs, known, observer.worker)
        for doc in docs:
            if not keep_parse:
                self.services.shared_parse.release(doc)
            doc.status = "failed" if id(doc) in halted else "done"
            if final and doc.story is not None:
                self._index_story(doc)
            if self.plugins is not None and (final or doc.status == "failed"):
                self.plugins.document_finished(doc, self.settings)
        self._flush_state()
        return docs

    def _flush_state(self) -> None:
        """Send the story index's held-back writes (never fails the documents)."""
        try:
            self.services.state.flush()
        except self.interrupts:
            raise
        except Exception as exc:
            log.warning("could not write the story index", error=f"{type(exc).__name__}: {exc}")

    def _runnable(self, bound: BoundStage, docs: list[Document],
                  todo: dict[int, set[str]] | None, failed_caps: dict[int, dict[str, str]],
                  halted: dict[int, str]) -> list[Document]:
        """The documents ``bound`` runs on now: the others keep their earlier run (not in
        ``todo``) or are recorded as skipped, with the reason."""
        runnable = []
        for doc in docs:
            if todo is not None and bound.name not in todo[id(doc)]:
                self._carry(bound, doc, failed_caps[id(doc)], halted)
                continue
            reason = self._skip_reason(bound, doc, failed_caps[id(doc)], halted)
            if reason:
                self._record(doc, bound, "skipped", 0.0, reason)
                for cap in bound.stage.provides:
                    failed_caps[id(doc)].setdefault(cap, bound.name)
            else:
                runnable.append(doc)
        return runnable

    def iter_process(
        self, articles: Iterable[Article | Document], batch_size: int | None = None
    ) -> Iterator[Document]:
        """Process a stream of articles in batches, yielding documents in order."""
        size = batch_size or self.settings.pipeline.batch_size
        batch: list[Article | Document] = []
        for article in articles:
            batch.append(article)
            if len(batch) >= size:
                yield from self.process_many(batch)
                batch = []
        if batch:
            yield from self.process_many(batch)

    # -- internals ---------------------------------------------------------------------

    def _index_story(self, doc: Document) -> None:
        """Count a finished document in the story index (never fails the document)."""
        try:
            StoryIndex(self.services.state).record(doc)
        except self.interrupts:
            raise
        except Exception as exc:
            log.warning("could not record the story", document_id=doc.id,
                        error=f"{type(exc).__name__}: {exc}")

    def _carry(self, bound: BoundStage, doc: Document, failed: dict[str, str],
               halted: dict[int, str]) -> None:
        """A stage kept from an earlier run: what it did not provide still counts."""
        run = latest_runs(doc).get(bound.name)
        if run is None or run.status == "ok":
            return
        for cap in bound.stage.provides:
            failed.setdefault(cap, bound.name)
        if run.status == "failed" and bound.required:
            halted[id(doc)] = f"required stage {bound.name!r} failed"

    def _parse(
        self,
        bound: BoundStage,
        docs: list[Document],
        failed_caps: dict[int, dict[str, str]],
        halted: dict[int, str],
    ) -> list[Document]:
        """Parse the batch once; a document spaCy cannot parse fails this stage alone."""
        shared = self.services.shared_parse
        try:
            shared.parse_many(docs, batch_size=self.settings.pipeline.batch_size)
            return docs
        except self.interrupts:
            raise
        except Exception:
            parsed = []
            for doc in docs:
                started = time.perf_counter()
                try:
                    shared.get(doc)
                except self.interrupts:
                    raise
                except Exception as exc:
                    err = RuntimeError(f"the shared spaCy parse failed: {type(exc).__name__}: "
                                       f"{exc}")
                    err.__cause__ = exc  # its traceback shows where spaCy raised
                    self._fail(bound, doc, time.perf_counter() - started, failed_caps, halted,
                               err)
                else:
                    parsed.append(doc)
            return parsed

    def _settle_languages(self, docs: Sequence[Document], halted: dict[int, str]) -> None:
        """Give each document its language (given or detected) once its text is final."""
        for doc in docs:
            if id(doc) not in halted and not language.is_recorded(doc):
                language.settle(doc, self.settings.detect_language)

    def _skip_reason(
        self, bound: BoundStage, doc: Document, failed: dict[str, str], halted: dict[int, str]
    ) -> str | None:
        if id(doc) in halted:
            return halted[id(doc)]
        if TEXT not in bound.stage.provides and (reason := self._language_reason(bound, doc)):
            return reason
        for cap in bound.stage.requires:
            if cap in failed:
                return f"requires {cap!r}, which stage {failed[cap]!r} did not provide"
        if doc.html is not None and not doc.raw_text and TEXT not in bound.stage.provides:
            return "HTML input needs a stage that provides 'text' (e.g. the cleaning plugin)"
        return None

    def _language_reason(self, bound: BoundStage, doc: Document) -> str | None:
        """Why ``bound`` cannot handle ``doc``'s language, and what would make it run."""
        lang = doc.language
        supported = bound.stage.languages
        if supported is not None and primary_language(lang) not in supported:
            return (f"stage {bound.name!r} handles {', '.join(supported)} only, and the "
                    f"article's language is {lang!r}; it runs when the article is in "
                    f"{' or '.join(supported)} (give 'language' if the detection is wrong)")
        if bound.stage.uses_parse and self.services.shared_parse.model_for(lang) is None:
            return (f"no spaCy pipeline for the article's language {lang!r}, which stage "
                    f"{bound.name!r} needs: {model_hint(lang)}")
        return None

    def _run_stage(
        self,
        bound: BoundStage,
        docs: list[Document],
        failed_caps: dict[int, dict[str, str]],
        halted: dict[int, str],
    ) -> None:
        started = time.perf_counter()
        try:
            if len(docs) == 1:
                bound.stage.process(docs[0])
            else:
                bound.stage.process_batch(docs)
            if bound.stage.cross_article:
                self.services.state.flush()
        except self.interrupts:
            raise
        except Exception:
            if len(docs) == 1:
                self._fail(bound, docs[0], time.perf_counter() - started, failed_caps, halted)
                return
            # isolate the failure: retry one document at a time
            for doc in docs:
                self._run_stage(bound, [doc], failed_caps, halted)
            return
        per_doc = (time.perf_counter() - started) / len(docs)
        for doc in docs:
            problems = self._check_layers(bound, doc)
            err: Exception | None = self._text_over_limit(bound, doc)
            if err is None and problems:
                err = RuntimeError("wrote invalid offsets: " + "; ".join(problems[:3]))
            elif err is None:
                try:
                    check_layer(doc, bound.name, bound.stage.Layer)
                except LayerError as exc:
                    err = exc
            if err is not None:
                self._fail(bound, doc, per_doc, failed_caps, halted, err)
            else:
                self._record(doc, bound, "ok", per_doc)

    def _text_over_limit(self, bound: BoundStage, doc: Document) -> InvalidArticle | None:
        """The text a stage extracted (from HTML) is held to the article size limit."""
        limit = self.settings.max_article_chars
        if TEXT not in bound.stage.provides or doc.html is None or len(doc.raw_text) <= limit:
            return None
        return InvalidArticle(
            f"the text extracted from the HTML is {len(doc.raw_text):,} characters, over the "
            f"limit of {limit:,} (setting max_article_chars)")

    def _check_layers(self, bound: BoundStage, doc: Document) -> list[str]:
        if TEXT in bound.stage.provides:
            return doc.offset_problems()
        return doc.offset_problems(layers=list(bound.stage.provides))

    def _fail(
        self,
        bound: BoundStage,
        doc: Document,
        seconds: float,
        failed_caps: dict[int, dict[str, str]],
        halted: dict[int, str],
        error: BaseException | None = None,
    ) -> None:
        import sys

        exc = error or sys.exc_info()[1]
        message = f"{type(exc).__name__}: {exc}" if exc else "unknown error"
        trace = _format_traceback(exc)
        _clear_layers(doc, bound.stage.provides)
        for key in (bound.name, *bound.stage.provides):  # its plugin layer, half-written
            doc.extensions.pop(key, None)
        self._record(doc, bound, "failed", seconds, message)
        doc.runs[-1]._traceback = trace
        for cap in bound.stage.provides:
            failed_caps[id(doc)].setdefault(cap, bound.name)
        log.warning("stage failed", document_id=doc.id, stage=bound.name, error=message,
                    required=bound.required)
        if trace:
            log.debug("stage traceback", document_id=doc.id, stage=bound.name, traceback=trace)
        if bound.required:
            halted[id(doc)] = f"required stage {bound.name!r} failed"
        elif TEXT in bound.stage.provides and doc.html is not None:
            # an HTML page whose text could not be made has nothing for later stages
            halted[id(doc)] = f"stage {bound.name!r} could not make text from the HTML"

    def _record(
        self,
        doc: Document,
        bound: BoundStage,
        status: Any,
        seconds: float,
        error: str | None = None,
    ) -> None:
        duration_ms = round(seconds * 1000, 3)
        spec = bound.spec
        doc.runs.append(
            StageRun(
                stage=bound.name,
                plugin=bound.plugin,
                version=bound.version,
                status=status,
                duration_ms=duration_ms,
                error=error,
                config_hash=spec.config_hash if spec else None,
                model=spec.model if spec else None,
                fingerprint=spec.fingerprint_for(doc, latest_runs(doc)) if spec else None,
            )
        )
        log.info("stage run", document_id=doc.id, stage=bound.name, status=status,
                  duration_ms=duration_ms)


def _stamp(docs: Sequence[Document], known: dict[int, int], worker: str | None) -> None:
    """Name ``worker`` in the runs added to ``docs`` since ``known`` counted them."""
    if worker is None:
        return
    for doc in docs:
        for run in doc.runs[known[id(doc)]:]:
            run.worker = worker
        known[id(doc)] = len(doc.runs)


def _format_traceback(exc: BaseException | None) -> str | None:
    """``exc`` with its traceback (and causes) as Python prints them, or ``None`` when it
    carries no frames at all (an error the pipeline made up, such as bad offsets)."""
    if exc is None:
        return None
    has_frames = exc.__traceback__ is not None or (
        exc.__cause__ is not None and exc.__cause__.__traceback__ is not None)
    if not has_frames:
        return None
    return "".join(traceback.format_exception(exc))


class ReprocessError(ValueError):
    """A Document cannot be brought up to date from what it holds; the message says why."""


def stage_upstream(stages: Sequence[BoundStage]) -> list[tuple[str, ...]]:
    """Per stage (in order), the stages whose layers it reads: the providers of what it
    requires or optionally uses, and the stages providing ``text`` (which all others read)."""
    providers: dict[str, list[str]] = {}
    for b in stages:
        for cap in b.stage.provides:
            providers.setdefault(cap, []).append(b.name)
    out = []
    for b in stages:
        caps = [*b.stage.requires, *b.stage.optional]
        if TEXT not in b.stage.provides:
            caps.append(TEXT)
        names = {p for cap in caps for p in providers.get(cap, []) if p != b.name}
        out.append(tuple(n for n in (s.name for s in stages) if n in names))
    return out


def _clear_layers(doc: Document, provides: Sequence[str]) -> None:
    """Drop what a failed stage may have half-written, so the document stays valid."""
    for cap in provides:
        if cap == "entities":
            doc.entities = []
        elif cap == "numbers":
            doc.numbers = []
        elif cap == "quotes":
            doc.quotes = []
        elif cap == "summary":
            doc.summary = None
        elif cap == "headings":
            doc.headings = []
        elif cap == "reuse":
            doc.reuse = None
        elif cap == "story":
            doc.story = None
    if doc.offset_problems():
        # a text stage broke the offsets of earlier layers: restore a consistent state
        doc.text = doc.raw_text
        doc.removed, doc.headings, doc.entities, doc.numbers, doc.quotes = [], [], [], [], []
        doc.summary = doc.reuse = None
