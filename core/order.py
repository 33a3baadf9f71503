"""The order stages run in: the enabled stages of the installed plugins, sorted so that each
runs after the stages providing what it requires (and what it optionally reads), in the
order given where nothing else decides.

Anything that cannot be resolved (an unknown stage name, a required stage that cannot run,
a capability no enabled stage provides, a cycle) is a ``PipelineError`` that says what would
fix it, raised when the pipeline is built, before any article arrives.
"""

from __future__ import annotations

from graphlib import CycleError, TopologicalSorter

from copydesk.plugin_manager import PluginManager, StageEntry
from copydesk.settings import Settings

TEXT = "text"
#: Capabilities every document has before any stage runs: the submitted text itself.
BASE_CAPABILITIES = frozenset({TEXT})


class PipelineError(ValueError):
    """The pipeline cannot be built as configured; the message says how to fix it."""


def resolve_order(
    entries: list[StageEntry], settings: Settings, plugins: PluginManager
) -> list[StageEntry]:
    """The enabled stages in dependency order, or a ``PipelineError`` saying what's wrong."""
    broken = {b.name: b.error for b in plugins.broken}
    enabled = _enabled(entries, settings, broken)
    graph = _dependencies(enabled, entries, broken)
    by_name = {e.stage.name: e for e in entries}
    return [by_name[n] for n in _sorted(graph, [e.stage.name for e in enabled])]


def _enabled(entries: list[StageEntry], settings: Settings,
             broken: dict[str, str]) -> list[StageEntry]:
    """The stages the settings enable (``pipeline.stages``, less ``pipeline.disabled``);
    every ``pipeline.required`` stage must be among them."""
    by_name = {e.stage.name: e for e in entries}
    wanted = settings.pipeline.stages
    if wanted is None:
        enabled = [e for e in entries if e.stage.name not in settings.pipeline.disabled]
    else:
        unknown = [n for n in wanted if n not in by_name]
        if unknown:
            raise PipelineError(
                f"unknown stage {unknown[0]!r} in pipeline.stages; installed stages: "
                f"{', '.join(sorted(by_name)) or 'none'}"
                + _broken_hint(broken)
            )
        enabled = [by_name[n] for n in wanted if n not in settings.pipeline.disabled]
    enabled_names = {e.stage.name for e in enabled}
    for name in settings.pipeline.required:
        if name not in enabled_names:
            why = (
                f"it is not installed{_broken_hint(broken)}"
                if name not in by_name
                else "it is disabled or not listed in pipeline.stages"
            )
            raise PipelineError(f"required stage {name!r} cannot run: {why}")
    return enabled


def _dependencies(enabled: list[StageEntry], entries: list[StageEntry],
                  broken: dict[str, str]) -> dict[str, set[str]]:
    """Each enabled stage -> the enabled stages it runs after."""
    providers: dict[str, list[str]] = {}
    for e in enabled:
        for cap in e.stage.provides:
            providers.setdefault(cap, []).append(e.stage.name)
    graph: dict[str, set[str]] = {e.stage.name: set() for e in enabled}
    for e in enabled:
        for cap in e.stage.requires:
            if cap not in providers and cap in BASE_CAPABILITIES:
                continue
            if cap not in providers:
                raise _unprovided(e, cap, entries, broken)
            graph[e.stage.name].update(p for p in providers[cap] if p != e.stage.name)
        for cap in e.stage.optional:
            graph[e.stage.name].update(p for p in providers.get(cap, []) if p != e.stage.name)
        if TEXT not in e.stage.provides:
            graph[e.stage.name].update(providers.get(TEXT, []))
    return graph


def _unprovided(e: StageEntry, cap: str, entries: list[StageEntry],
                broken: dict[str, str]) -> PipelineError:
    could = sorted(x.stage.name for x in entries if cap in x.stage.provides)
    hint = f"enable stage {', '.join(could)}" if could else "no installed plugin provides it"
    return PipelineError(
        f"stage {e.stage.name!r} (plugin {e.plugin!r}) requires {cap!r}, "
        f"which no enabled stage provides: {hint}" + _broken_hint(broken)
    )


def _sorted(graph: dict[str, set[str]], given: list[str]) -> list[str]:
    """The stages of ``graph`` in dependency order, ties in the ``given`` order."""
    position = {name: i for i, name in enumerate(given)}
    sorter = TopologicalSorter(graph)
    try:
        sorter.prepare()
    except CycleError as exc:
        cycle = " -> ".join(exc.args[1])
        raise PipelineError(
            f"the stages depend on each other in a cycle: {cycle}; "
            "disable one of them or change what it requires"
        ) from None
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=position.__getitem__)
        order.extend(ready)
        sorter.done(*ready)
    return order


def _broken_hint(broken: dict[str, str]) -> str:
    if not broken:
        return ""
    listed = "; ".join(f"{name} ({err})" for name, err in sorted(broken.items()))
    return f" (plugins that failed to load: {listed})"
