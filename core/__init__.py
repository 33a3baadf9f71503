"""copydesk core: the document model, hooks, stages, pipeline and settings.

Plugin authors need only this::

    from copydesk import Stage, StageConfig, hookimpl, Document

plus the annotation types a stage reads or writes (``Entity``, ``NumberMention``,
``Quote``, ``Speaker``, ``Summary``, ``Heading``, ``Removal``, ``StageRun``, and
``Span``, the base of any span in a plugin's own layer). ``copydesk.testing`` runs
one stage in a test. Stages that look across articles keep what they remember in
``SharedState`` spaces (``copydesk.state``), reached as ``self.services.state``.
"""

from copydesk.document import (
    Article,
    Document,
    Entity,
    Heading,
    InvalidArticle,
    NumberMention,
    Quote,
    Removal,
    Reuse,
    ReusedPassage,
    ReuseSource,
    Span,
    Speaker,
    StageRun,
    Story,
    Summary,
    parse_article,
)
from copydesk.hookspecs import hookimpl
from copydesk.pipeline import Pipeline, PipelineError
from copydesk.settings import Settings, load_settings
from copydesk.stage import Services, Stage, StageConfig
from copydesk.state import Claim, SharedState, StateSpace

__version__ = "0.1.0"

__all__ = [
    "Article",
    "Claim",
    "Document",
    "Entity",
    "Heading",
    "InvalidArticle",
    "NumberMention",
    "Pipeline",
    "PipelineError",
    "Quote",
    "Removal",
    "Reuse",
    "ReuseSource",
    "ReusedPassage",
    "Services",
    "Settings",
    "SharedState",
    "Span",
    "Speaker",
    "Stage",
    "StageConfig",
    "StageRun",
    "StateSpace",
    "Story",
    "Summary",
    "__version__",
    "hookimpl",
    "load_settings",
    "parse_article",
]
