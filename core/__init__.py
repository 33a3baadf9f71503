"""copydesk core: the document model, hooks, stages, pipeline and settings.

Plugin authors need only this::

    from copydesk import Stage, StageConfig, hookimpl, Document
"""

from copydesk.document import Article, Document, InvalidArticle, parse_article
from copydesk.hookspecs import hookimpl
from copydesk.pipeline import Pipeline, PipelineError
from copydesk.settings import Settings, load_settings
from copydesk.stage import Services, Stage, StageConfig

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
