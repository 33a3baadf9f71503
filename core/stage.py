"""The stage protocol: what a plugin implements to become a step of the pipeline.

A stage is a class. It declares what it ``requires`` and ``provides`` (capabilities
such as ``text``, ``entities``), a pydantic ``Config`` model for its settings section,
``setup()`` run once per process (load models there) and ``process(doc)``; it may
override ``process_batch(docs)`` to work spaCy-style on many documents at once.
Stages that read the linguistic parse set ``uses_parse = True`` and call
``self.services.parse(doc)``: the pipeline parses each document once, in batches,
and every stage shares that parse.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from copydesk.document import Document
    from copydesk.nlp import SharedParse
    from spacy.tokens import Doc as SpacyDoc


class StageConfig(BaseModel):
    """Base of every stage's config model: unknown keys are an error, not ignored."""

    model_config = ConfigDict(extra="forbid")


class Services:
    """What the core offers every stage: the shared parse, and room for more."""

    def __init__(self, parse: SharedParse) -> None:
        self.shared_parse = parse

    def parse(self, doc: Document) -> SpacyDoc:
        """The spaCy ``Doc`` of ``doc.text``, parsed once per document per process."""
        return self.shared_parse.get(doc)

    @property
    def nlp(self) -> Any:
        """The loaded spaCy pipeline (for vocab, lemmas, matchers built in ``setup``)."""
        return self.shared_parse.nlp


class Stage:
    """Base class for stages. Subclasses set the class attributes and ``process``."""

    #: Unique stage name; also the name of its settings section (``[stage.NAME]``).
    name: ClassVar[str] = ""
    #: Capabilities this stage needs before it can run.
    requires: ClassVar[tuple[str, ...]] = ()
    #: Capabilities this stage adds. Only a stage providing ``text`` may change the text.
    provides: ClassVar[tuple[str, ...]] = ()
    #: Capabilities used when some enabled stage provides them (ordering only, no error).
    optional: ClassVar[tuple[str, ...]] = ()
    #: The pydantic model the stage's settings section is validated against.
    Config: ClassVar[type[StageConfig]] = StageConfig
    #: True when the stage reads the shared spaCy parse.
    uses_parse: ClassVar[bool] = False
    #: One line for ``copydesk plugins``.
    description: ClassVar[str] = ""
    #: Bump when the stage's output changes, so stored Documents show this layer stale
    #: (``copydesk reprocess``). None: the plugin distribution's version.
    version: ClassVar[str | None] = None

    def __init__(self, config: StageConfig, services: Services) -> None:
        self.config = config
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


def declaration_problems(stage: Any) -> list[str]:
    """Why ``stage`` is not a usable stage class (empty when it is)."""
    if not isinstance(stage, type) or not issubclass(stage, Stage):
        return [f"{stage!r} is not a subclass of core.Stage"]
    problems = []
    if not isinstance(stage.name, str) or not stage.name.isidentifier():
        problems.append(f"{stage.__name__}.name must be an identifier, got {stage.name!r}")
    for attr in ("requires", "provides", "optional"):
        value = getattr(stage, attr)
        if not isinstance(value, tuple | list) or not all(isinstance(v, str) for v in value):
            problems.append(f"{stage.__name__}.{attr} must be a tuple of strings, got {value!r}")
    if stage.version is not None and not isinstance(stage.version, str):
        problems.append(f"{stage.__name__}.version must be a string or None, "
                        f"got {stage.version!r}")
    if not isinstance(stage.Config, type) or not issubclass(stage.Config, BaseModel):
        problems.append(f"{stage.__name__}.Config must be a pydantic model class")
    if stage.process is Stage.process and stage.process_batch is Stage.process_batch:
        problems.append(f"{stage.__name__} implements neither process() nor process_batch()")
    return problems
