"""What ``copydesk plugins`` shows and what ``copydesk plugins --check`` checks.

``describe`` gathers every installed plugin with its stages (description, requires,
provides, optional capabilities, config options with their JSON Schema), the broken
plugins and the resolved stage order, as plain data for ``--json``. ``render`` prints it
for a person without a table, so nothing is truncated on a narrow terminal. ``check``
lists what would stop the configured pipeline from running: a broken plugin, a pipeline
that cannot be built, a stage (or the shared spaCy model) whose ``setup()`` fails, a
configured sink that is misconfigured or cannot be reached.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Callable
from typing import Any

from copydesk.pipeline import Pipeline, PipelineError, resolve_order
from copydesk.plugin_manager import PluginManager, SinkEntry, StageEntry
from copydesk.settings import Settings
from copydesk.sinks import check_sinks, configured_names
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticSerializationError, to_jsonable_python
from rich.console import Console
from rich.markup import escape


def _type_name(annotation: Any) -> str:
    """A short readable name of a config field's type (``int``, ``list[str]``, ``str | None``)."""
    if annotation is None:
        return "any"
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return annotation.__name__
    return str(annotation).replace("typing.", "").replace("NoneType", "None")


def _default(field: FieldInfo) -> tuple[bool, Any]:
    """``(required, default as JSON-able data)`` of a config field."""
    if field.is_required():
        return True, None
    value = field.get_default(call_default_factory=True)
    try:
        return False, to_jsonable_python(value)
    except PydanticSerializationError:
        return False, repr(value)


def config_options(config: type[BaseModel]) -> list[dict[str, Any]]:
    """The options of a stage's ``Config`` model: name, type, default, description."""
    options = []
    for name, field in config.model_fields.items():
        required, default = _default(field)
        options.append({
            "name": field.alias or name,
            "type": _type_name(field.annotation),
            "required": required,
            "default": default,
            "description": field.description or "",
        })
    return options


def _stage(entry: StageEntry) -> dict[str, Any]:
    stage = entry.stage
    layer = stage.Layer
    return {
        "name": stage.name,
        "description": stage.description,
        "requires": list(stage.requires),
        "provides": list(stage.provides),
        "optional": list(stage.optional),
        "uses_parse": stage.uses_parse,
        "languages": list(stage.languages) if stage.languages is not None else None,
        "config": config_options(stage.Config),
        "config_schema": stage.Config.model_json_schema(),
        "layer": layer.__name__ if layer is not None else None,
    }


def _sink(entry: SinkEntry, on: bool) -> dict[str, Any]:
    return {"name": entry.sink.name, "description": entry.sink.description,
            "configured": on, "config": config_options(entry.sink.Config),
            "config_schema": entry.sink.Config.model_json_schema()}


def describe(manager: PluginManager, settings: Settings) -> dict[str, Any]:
    """Installed plugins, their stages and sinks, broken plugins and the resolved order."""
    entries = manager.stages()
    sinks = manager.sinks()
    on = set(configured_names(settings))
    try:
        order = [e.stage.name for e in resolve_order(entries, settings, manager)]
        order_error = None
    except PipelineError as exc:
        order, order_error = [], str(exc)
    return {
        "plugins": [
            {"name": i.name, "distribution": i.distribution, "version": i.version,
             "module": i.module, "hooks": i.hooks,
             "stages": [_stage(e) for e in entries if e.plugin == i.name],
             "sinks": [_sink(e, e.sink.name in on) for e in sinks if e.plugin == i.name]}
            for i in manager.info.values()
        ],
        "broken": [{"name": b.name, "error": b.error, "distribution": b.distribution}
                   for b in manager.broken],
        "order": order,
        "order_error": order_error,
    }


def check(manager: PluginManager, settings: Settings, setup: bool = True) -> list[str]:
    """Why the configured pipeline cannot run here, one line each naming the plugin or
    stage (empty when it can). With ``setup``, every stage's ``setup()`` runs too (models
    load), so a stage that cannot start is found before the first document."""
    manager.stages()  # a malformed declaration marks its plugin broken
    manager.sinks()
    problems = [f"plugin {b.name!r} is broken: {b.error}" for b in manager.broken]
    if setup:
        problems += check_sinks(settings, manager)
    try:
        pipeline = Pipeline.build(settings, manager)
    except PipelineError as exc:
        return [*problems, f"the pipeline cannot be built: {exc}"]
    if not setup:
        return problems
    plugin_of = {b.name: b.plugin for b in pipeline.stages}
    parsing = [b.name for b in pipeline.stages if b.stage.uses_parse]
    if parsing:
        try:
            _ = pipeline.services.nlp
        except Exception as exc:
            names = ", ".join(f"{n!r} (plugin {plugin_of[n]!r})" for n in parsing)
            return [*problems, f"the spaCy model for stages {names} cannot load: "
                    f"{type(exc).__name__}: {exc}"]
    for bound in pipeline.stages:
        try:
            bound.stage.setup()
        except Exception as exc:
            problems.append(f"stage {bound.name!r} (plugin {bound.plugin!r}) cannot start: "
                            f"setup() raised {type(exc).__name__}: {exc}")
    return problems


def option_lines(options: list[dict[str, Any]], line: Callable[[str, int], None]) -> None:
    """One line per config option (stage or sink): name, type, default, description."""
    for option in options:
        default = ("required" if option["required"]
                   else f"default {json.dumps(option['default'])}")
        about = f": {option['description']}" if option["description"] else ""
        line(escape(f"{option['name']} ({option['type']}, {default}){about}"), 6)


def render(data: dict[str, Any], console: Console) -> None:
    """Print ``describe``'s data for a person: one block per plugin, one per stage.

    Lines are never cut: ``soft_wrap`` leaves long lines whole for the terminal to wrap."""
    def line(text: str, indent: int = 0) -> None:
        console.print(" " * indent + text, soft_wrap=True, highlight=False)

    line("[b]installed plugins[/b]")
    for plugin in data["plugins"]:
        hooks = ", ".join(plugin["hooks"]) or "none"
        line(f"[b]{escape(plugin['name'])}[/b] {escape(plugin['version'])} "
             f"({escape(plugin['module'])}); hooks: {escape(hooks)}")
        if not plugin["stages"] and not plugin.get("sinks"):
            line("no stages", 2)
        for sink in plugin.get("sinks", []):
            described = f": {escape(sink['description'])}" if sink["description"] else ""
            state = "on" if sink["configured"] else f"off (set [sinks.{sink['name']}])"
            line(f"sink [b]{escape(sink['name'])}[/b]{described}; {escape(state)}", 2)
            line(escape(f"config [sinks.{sink['name']}]:"), 4)
            option_lines(sink["config"], line)
        for stage in plugin["stages"]:
            described = f": {escape(stage['description'])}" if stage["description"] else ""
            line(f"stage [b]{escape(stage['name'])}[/b]{described}", 2)
            caps = [f"{label}: {', '.join(stage[key]) or '—'}"
                    for label, key in (("requires", "requires"), ("provides", "provides"),
                                       ("optional", "optional"))]
            if stage["uses_parse"]:
                caps.append("reads the shared spaCy parse")
            if stage["languages"] is not None:
                caps.append(f"languages: {', '.join(stage['languages'])}")
            if stage["layer"]:
                caps.append(f"layer: {stage['layer']}")
            line(escape("; ".join(caps)), 4)
            if not stage["config"]:
                line(escape(f"config [stage.{stage['name']}]: no options"), 4)
                continue
            line(escape(f"config [stage.{stage['name']}]:"), 4)
            option_lines(stage["config"], line)
    for broken in data["broken"]:
        line(f"[red]broken plugin[/red] [b]{escape(broken['name'])}[/b]: "
             f"{escape(broken['error'])}")
    if data["order_error"]:
        line(f"[red]pipeline cannot be built:[/red] {escape(data['order_error'])}")
    else:
        line("stage order: " + " → ".join(data["order"] or ["(no stages)"]))
