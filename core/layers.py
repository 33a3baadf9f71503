"""Plugin layers: the typed layers third-party stages write to ``Document.extensions``.

A stage that declares ``Layer`` (a pydantic model) writes its layer to
``doc.extensions[<stage name>]``, as a model instance or as plain data. After the stage
runs, the pipeline validates that value against ``Layer`` (``check_layer``), stores it
back as JSON data (so the Document reads the same in-process and after the queue), and
checks the offsets of every span in it like the built-in layers: a span is any object
with integer ``start`` and ``end`` and a string ``text``, at any depth, and it must hold
``text == document.text[start:end]``.

``find_spans`` and ``layer_fields`` are what the terminal and HTML views draw from: they
need no model, so a Document from a worker with plugins this host lacks is still shown with
its marks and a table of its other values. A layer may be any pydantic model, a
``RootModel`` too (a bare list or value: ``RootModel[list[Tag]]``).
``document_schema`` is the Document's JSON Schema with the installed layers in it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from copydesk.document import Document, describe_validation_error, document_json_schema
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

ModelT = TypeVar("ModelT", bound=BaseModel)


@dataclass(frozen=True)
class LayerSpan:
    """A span found in a plugin layer: where it sits in the layer, and its fields."""

    layer: str
    path: str
    start: int
    end: int
    text: str
    label: str | None
    fields: Mapping[str, Any]


def _is_span(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and type(value.get("start")) is int
        and type(value.get("end")) is int
        and isinstance(value.get("text"), str)
    )


def find_spans(layer: str, value: Any) -> list[LayerSpan]:
    """Every span object in a layer's JSON data, depth first, in document order of keys."""
    found: list[LayerSpan] = []

    def walk(item: Any, path: str) -> None:
        if isinstance(item, BaseModel):
            item = item.model_dump(mode="json")
        if _is_span(item):
            label = item.get("label")
            found.append(LayerSpan(
                layer=layer, path=path, start=item["start"], end=item["end"],
                text=item["text"], label=label if isinstance(label, str) else None,
                fields=item,
            ))
        if isinstance(item, dict):
            for key, child in item.items():
                walk(child, f"{path}.{key}" if path else str(key))
        elif isinstance(item, list | tuple):
            for i, child in enumerate(item):
                walk(child, f"{path}[{i}]")

    walk(value, "")
    return found


#: How many rows ``layer_fields`` gives before summing up the rest in one row, and how
#: many values of a list of plain values it joins before saying how many there are.
MAX_FIELD_ROWS = 60
MAX_JOINED_VALUES = 20


def layer_fields(value: Any, fmt: Callable[[Any], str] = str,
                 limit: int = MAX_FIELD_ROWS) -> list[tuple[str, str]]:
    """The key/value rows of a layer's values other than its spans, for a view's table.

    Nested objects flatten to dotted keys (``counts.positive``, ``sections[2].title``); a
    list of plain values is one row, its values joined by ", "; an empty list or object is
    "(none)"; a layer that is a bare value (a ``RootModel``) is one row, ``value`` or
    ``values``. Spans are left out (the views list them in a table of their own). Past
    ``limit`` rows, one last row says how many more there are. ``fmt`` writes a plain value.
    """
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    rows: list[tuple[str, str]] = []

    def plain(item: Any) -> bool:
        return item is None or isinstance(item, str | int | float | bool)

    def joined(items: list[Any]) -> str:
        shown = ", ".join(fmt(i) for i in items[:MAX_JOINED_VALUES])
        more = len(items) - MAX_JOINED_VALUES
        return shown + (f", … ({len(items)} in all)" if more > 0 else "")

    def walk(item: Any, key: str) -> None:
        if _is_span(item):
            return
        if isinstance(item, dict):
            if not item:
                rows.append((key, "(none)"))
            for name, child in item.items():
                walk(child, f"{key}.{name}" if key else str(name))
        elif isinstance(item, list | tuple):
            if not item:
                rows.append((key or "values", "(none)"))
            elif all(plain(i) for i in item):
                rows.append((key or "values", joined(list(item))))
            else:
                for i, child in enumerate(item):
                    walk(child, f"{key}[{i}]")
        else:
            rows.append((key or "value", fmt(item)))

    walk(value, "")
    if len(rows) > limit:
        rows = [*rows[:limit - 1], ("…", f"{len(rows) - limit + 1} more values")]
    return rows


def span_problems(layer: str, value: Any, text: str) -> list[str]:
    """Each span in ``value`` whose offsets fall outside ``text`` or whose text differs."""
    problems = []
    for span in find_spans(layer, value):
        where = f"extensions[{layer!r}]" + (f".{span.path}" if span.path else "")
        if not 0 <= span.start <= span.end <= len(text):
            problems.append(f"{where}: offsets {span.start}:{span.end} do not fit a text of "
                            f"{len(text)} characters")
            continue
        actual = text[span.start:span.end]
        if actual != span.text:
            problems.append(f"{where}: text {span.text[:40]!r} differs from "
                            f"text[{span.start}:{span.end}] = {actual[:40]!r}")
    return problems


class LayerError(ValueError):
    """A stage wrote a layer that does not match its ``Layer`` model or the text."""


def check_layer(doc: Document, name: str, model: type[BaseModel] | None) -> None:
    """Validate ``doc.extensions[name]`` against ``model`` (when given), store it as JSON
    data, and check its spans; raise ``LayerError`` saying what is wrong."""
    if name not in doc.extensions:
        return
    value = doc.extensions[name]
    if model is not None:
        try:
            validated = model.model_validate(value)
        except ValidationError as exc:
            raise LayerError(f"wrote an invalid layer extensions[{name!r}] "
                             f"({model.__name__}): {describe_validation_error(exc)}") from None
        value = validated.model_dump(mode="json")
        doc.extensions[name] = value
    elif isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
        doc.extensions[name] = value
    problems = span_problems(name, value, doc.text)
    if problems:
        raise LayerError("wrote invalid offsets: " + "; ".join(problems[:3]))


def read_layer(doc: Document, name: str, model: type[ModelT]) -> ModelT | None:
    """``doc.extensions[name]`` as a ``model`` instance (None when the layer is absent)."""
    value = doc.extensions.get(name)
    if value is None:
        return None
    return model.model_validate(value)


def engine_layers() -> dict[str, type[BaseModel]]:
    """The extension layers the engine writes itself, not a stage: ``language``."""
    from copydesk.language import EXTENSION, LanguageLayer

    return {EXTENSION: LanguageLayer}


def document_schema(layers: Mapping[str, type[BaseModel]] | None = None) -> dict[str, Any]:
    """The Document's JSON Schema, with ``extensions.<name>`` described by each layer model.

    Other ``extensions`` keys stay allowed (a stage without a declared layer may write
    any JSON there), so this schema accepts every Document the plain one does.
    """
    if not layers:
        return document_json_schema()
    fields: dict[str, Any] = {
        name: (model | None, Field(default=None, description=f"The layer of stage {name!r}."))
        for name, model in sorted(layers.items())
    }
    extensions = create_model(
        "Extensions", __config__=ConfigDict(extra="allow"), **fields
    )
    document = create_model(
        "Document",
        __base__=Document,
        __doc__=Document.__doc__,
        extensions=(extensions, Field(
            default_factory=dict,
            description="Layers of third-party stages, keyed by stage name.")),
    )
    return document_json_schema(document)
