"""The stage protocol: what a plugin implements to become a step of the pipeline.

A stage is a class. It declares what it ``requires`` and ``provides`` (capabilities
such as ``text``, ``entities``), ``setup()`` run once per process (load models there)
and ``process(doc)``; it may override ``process_batch(docs)`` to work spaCy-style on
many documents at once.

``Stage`` is generic over its config model: ``class ToneStage(Stage[ToneConfig])``
validates the ``[stage.tone]`` settings section against ``ToneConfig`` and types
``self.config`` as a ``ToneConfig``, so every option type-checks. A stage may also
declare ``Layer``, the pydantic model of what it writes to ``doc.extensions[name]``:
the pipeline validates that layer after the stage runs and checks its spans' offsets
(see ``copydesk.layers``).
Stages that read the linguistic parse set ``uses_parse = True`` and call
``self.services.parse(doc)``: the pipeline parses each document once, in batches,
and every stage shares that parse.
Stages that look across articles (duplicates, stories) set ``cross_article = True`` and
keep what they remember in ``self.services.state`` (``copydesk.state``): in-process it
lives in memory, on the queue in the Redis every worker shares. They see articles in
input order (``process -j N`` runs them in the parent, after the other stages).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, get_args, get_origin

from copydesk.logs import get_logger
from pydantic import BaseModel, ConfigDict
from typing_extensions import TypeVar

log = get_logger("copydesk.stage")

if TYPE_CHECKING:
    from copydesk.document import Document
    from copydesk.nlp import SharedParse
    from copydesk.state import SharedState
    from spacy.tokens import Doc as SpacyDoc


class StageConfig(BaseModel):
    """Base of every stage's config model: unknown keys are an error, not ignored."""

    model_config = ConfigDict(extra="forbid")


#: The config model a stage is generic over; a bare ``Stage`` has the empty ``StageConfig``.
#: Covariant, so ``type[ToneStage]`` is a ``type[Stage]`` where stages are collected.
ConfigT = TypeVar("ConfigT", bound=StageConfig, default=StageConfig, covariant=True)


class Services:
    """What the core offers every stage: the shared parse and the shared state."""

    def __init__(self, parse: SharedParse, state: SharedState | None = None) -> None:
        from copydesk.state import SharedState

        self.shared_parse = parse
        #: State shared across articles (``copydesk.state``): in memory in-process; workers
        #: replace its backend with Redis.
        self.state: SharedState = state or SharedState()
        #: Who re-runs a stage on Documents already finished (``revisit``); workers set it
        #: to queue them for reprocessing. In-process there is none: a Document already
        #: written is not rewritten (``copydesk process`` corrects within a batch).
        self.on_revisit: Callable[[list[str], str], None] | None = None

    def revisit(self, doc_ids: Iterable[str], stage: str) -> None:
        """Ask that Documents already finished run ``stage`` again, because what it wrote
        for them depends on an article that came after them (a cross-article stage: an
        earlier-dated original processed after its copies). Workers queue them for
        reprocessing (the corrected Documents reach the store, the event stream and the
        sinks again); in-process this is logged and dropped."""
        ids = list(dict.fromkeys(doc_ids))
        if not ids:
            return
        if self.on_revisit is None:
            log.info("finished documents left uncorrected (no one to re-run them)",
                     stage=stage, documents=ids[:20], count=len(ids))
            return
        self.on_revisit(ids, stage)

    def parse(self, doc: Document) -> SpacyDoc:
        """The spaCy ``Doc`` of ``doc.text``, parsed once per document per process, by the
        pipeline configured for ``doc.language``."""
        return self.shared_parse.get(doc)

    @property
    def nlp(self) -> Any:
        """The loaded English spaCy pipeline (for vocab, lemmas, matchers built in ``setup``)."""
        return self.shared_parse.nlp

    def nlp_for(self, language: str) -> Any:
        """The spaCy pipeline that parses documents in ``language`` (its vocab is theirs)."""
        return self.shared_parse.nlp_for(language)


class Stage(Generic[ConfigT]):
    """Base class for stages. Subclasses set the class attributes and ``process``.

    ``class ToneStage(Stage[ToneConfig])`` sets ``Config = ToneConfig`` by itself;
    setting ``Config`` explicitly is still accepted when it names the same model.
    """

    #: Unique stage name; also the name of its settings section (``[stage.NAME]``).
    name: ClassVar[str] = ""
    #: Capabilities this stage needs before it can run.
    requires: ClassVar[tuple[str, ...]] = ()
    #: Capabilities this stage adds. Only a stage providing ``text`` may change the text.
    provides: ClassVar[tuple[str, ...]] = ()
    #: Capabilities used when some enabled stage provides them (ordering only, no error).
    optional: ClassVar[tuple[str, ...]] = ()
    #: The pydantic model the stage's settings section is validated against (taken from
    #: the type argument of ``Stage[...]`` when the class does not set it).
    Config: ClassVar[type[StageConfig]] = StageConfig
    #: The pydantic model of the layer this stage writes to ``doc.extensions[name]`` (any
    #: model; a ``RootModel`` for a bare list or value), or None for a stage that writes only
    #: built-in layers (or untyped extensions).
    Layer: ClassVar[type[BaseModel] | None] = None
    #: True when the stage reads the shared spaCy parse.
    uses_parse: ClassVar[bool] = False
    #: True when the stage reads or writes ``services.state`` (what earlier articles left):
    #: it sees articles in input order, and ``process -j N`` runs it in the parent process.
    cross_article: ClassVar[bool] = False
    #: Language codes the stage handles (``en`` also covers ``en-GB``); None: any language.
    #: On an article in another language it is skipped with a reason, not run.
    languages: ClassVar[tuple[str, ...] | None] = None
    #: One line for ``copydesk plugins``.
    description: ClassVar[str] = ""
    #: Bump when the stage's output changes, so stored Documents show this layer stale
    #: (``copydesk reprocess``). None: the plugin distribution's version.
    version: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "Config" in cls.__dict__:
            return
        model = _config_argument(cls)
        if model is not None:
            cls.Config = model

    def __init__(self, config: ConfigT, services: Services) -> None:
        self.config: ConfigT = config
        self.services = services

    def setup(self) -> None:
        """Runs once per process before the first document: load models, compile rules."""

    def process(self, doc: Document) -> None:
        """Add this stage's layer to ``doc`` (in place)."""
        raise NotImplementedError(f"stage {self.name!r} does not implement process()")

    def process_batch(self, docs: Sequence[Document]) -> None:
        """Process several documents; override to batch. Errors are isolated per document
        by the pipeline, which retries one by one when a batch call raises."""
        for doc in docs:
            self.process(doc)


def _config_argument(cls: type) -> type[StageConfig] | None:
    """The config model in ``class X(Stage[Model])``, if ``cls`` itself is declared so."""
    for base in cls.__dict__.get("__orig_bases__", ()):
        origin = get_origin(base)
        if isinstance(origin, type) and issubclass(origin, Stage):
            args = get_args(base)
            if args and isinstance(args[0], type) and issubclass(args[0], StageConfig):
                return args[0]
    return None


def declaration_problems(stage: Any) -> list[str]:
    """Why ``stage`` is not a usable stage class (empty when it is)."""
    if not isinstance(stage, type) or not issubclass(stage, Stage):
        return [f"{stage!r} is not a subclass of copydesk.Stage"]
    problems = []
    if not isinstance(stage.name, str) or not stage.name.isidentifier():
        problems.append(f"{stage.__name__}.name must be an identifier, got {stage.name!r}")
    for attr in ("requires", "provides", "optional"):
        value = getattr(stage, attr)
        if not isinstance(value, tuple | list) or not all(isinstance(v, str) for v in value):
            problems.append(f"{stage.__name__}.{attr} must be a tuple of strings, got {value!r}")
    langs = stage.languages
    if langs is not None and (not isinstance(langs, tuple | list)
                              or not all(isinstance(v, str) and v for v in langs)):
        problems.append(f"{stage.__name__}.languages must be None (any language) or a tuple "
                        f"of language codes, got {langs!r}")
    if stage.version is not None and not isinstance(stage.version, str):
        problems.append(f"{stage.__name__}.version must be a string or None, "
                        f"got {stage.version!r}")
    if not isinstance(stage.Config, type) or not issubclass(stage.Config, BaseModel):
        problems.append(f"{stage.__name__}.Config must be a pydantic model class")
    else:
        declared = next((m for m in map(_config_argument, stage.__mro__) if m), None)
        if declared is not None and not issubclass(stage.Config, declared):
            problems.append(f"{stage.__name__}.Config is {stage.Config.__name__}, but the "
                            f"class is declared as Stage[{declared.__name__}]")
    layer = stage.Layer
    if layer is not None and not (isinstance(layer, type) and issubclass(layer, BaseModel)):
        problems.append(f"{stage.__name__}.Layer must be a pydantic model class or None")
    if stage.process is Stage.process and stage.process_batch is Stage.process_batch:
        problems.append(f"{stage.__name__} implements neither process() nor process_batch()")
    return problems
