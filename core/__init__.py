"""copydesk core: the document model, hooks, stages, pipeline and settings.

Plugin authors need only this::

    from core import Stage, StageConfig, hookimpl, Document
"""

from core.document import Article, Document, InvalidArticle, parse_article
from core.hookspecs import hookimpl
from core.pipeline import Pipeline, PipelineError
from core.settings import Settings, load_settings
from core.stage import Services, Stage, StageConfig

__version__ = "0.1.0"

__all__ = [
    "Article",
    "Document",
    "InvalidArticle",
    "Pipeline",
    "PipelineError",
    "Services",
    "Settings",
    "Stage",
    "StageConfig",
    "__version__",
    "hookimpl",
    "load_settings",
    "parse_article",
]
