"""The plugin manager: finds plugins in the ``copydesk`` entry-point group and loads them.

Built-in plugins are entry points of copydesk's own distribution, so they are found,
listed, allowed and disabled exactly as a third party's are. A plugin that fails to
import or declares a malformed stage is recorded in ``broken`` by name and skipped;
it never takes the CLI or a worker down.
"""

from __future__ import annotations

import importlib.metadata as md
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pluggy
from copydesk import hookspecs
from copydesk.logs import get_logger
from copydesk.sinks import Sink
from copydesk.sinks import declaration_problems as sink_problems
from copydesk.stage import Stage, declaration_problems

log = get_logger("copydesk.plugins")


@dataclass(frozen=True)
class BrokenPlugin:
    """A plugin that could not be used, and why."""

    name: str
    error: str
    distribution: str | None = None


@dataclass(frozen=True)
class StageEntry:
    """A stage class with the plugin that contributed it."""

    stage: type[Stage]
    plugin: str
    version: str


@dataclass(frozen=True)
class SinkEntry:
    """A sink class with the plugin that contributed it."""

    sink: type[Sink[Any]]
    plugin: str


@dataclass
class PluginInfo:
    name: str
    distribution: str | None
    version: str
    module: str
    hooks: list[str] = field(default_factory=list)
    stages: list[str] = field(default_factory=list)
    sinks: list[str] = field(default_factory=list)


#: Top-level names of the layout before one import package, and what replaced them.
OLD_LAYOUT = {"core": "copydesk", "plugins": "copydesk.plugins", "workers": "copydesk.workers"}


def old_layout_hint(exc: BaseException) -> str:
    """For a failed import of ``core``, ``plugins`` or ``workers`` (the folders' names,
    importable before they became the one package ``copydesk``): the name to import
    instead, and where the moved names are listed."""
    if not isinstance(exc, ModuleNotFoundError) or not exc.name:
        return ""
    top = exc.name.split(".")[0]
    if top not in OLD_LAYOUT:
        return ""
    return (f" (the plugin imports '{top}', a name of copydesk's old layout: import "
            f"'{OLD_LAYOUT[top]}' instead; docs/migrating.md lists every moved name)")


class PluginManager:
    """A pluggy manager plus copydesk's rules for loading, skipping and tracing plugins."""

    def __init__(
        self,
        load: list[str] | None = None,
        disable: list[str] | None = None,
        trace: bool = False,
    ) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.allow = set(load) if load is not None else None
        self.disable = set(disable or ())
        self.broken: list[BrokenPlugin] = []
        self.info: dict[str, PluginInfo] = {}
        self._stages: list[StageEntry] | None = None
        self._sinks: list[SinkEntry] | None = None
        if trace:
            self.pm.add_hookcall_monitoring(_trace_before, _trace_after)

    # -- loading ---------------------------------------------------------------------

    def load_entry_points(self) -> None:
        """Import and register every allowed plugin of the ``copydesk`` group."""
        seen: set[str] = set()
        for ep in md.entry_points(group=hookspecs.PROJECT):
            if ep.name in seen:
                continue
            seen.add(ep.name)
            if self.allow is not None and ep.name not in self.allow:
                continue
            if ep.name in self.disable:
                continue
            dist = ep.dist.name if ep.dist else None
            version = ep.dist.version if ep.dist else "0"
            try:
                plugin = ep.load()
            except Exception as exc:  # a third party's import error must not stop us
                self._mark_broken(ep.name, f"import failed: {type(exc).__name__}: {exc}"
                                  + old_layout_hint(exc), dist)
                continue
            self.register(plugin, ep.name, distribution=dist, version=version)
        if self.allow is not None:
            for missing in sorted(self.allow - seen):
                self._mark_broken(missing, "named in load_plugins but not installed")

    def register(
        self,
        plugin: Any,
        name: str,
        distribution: str | None = None,
        version: str | None = None,
    ) -> None:
        """Register a plugin object or module by name (tests and embedding use this)."""
        try:
            self.pm.register(plugin, name=name)
        except Exception as exc:
            self._mark_broken(name, f"registration failed: {type(exc).__name__}: {exc}",
                              distribution)
            return
        self.info[name] = PluginInfo(
            name=name,
            distribution=distribution,
            version=version or getattr(plugin, "__version__", None) or "0",
            module=getattr(plugin, "__name__", type(plugin).__name__),
            hooks=sorted(
                impl.name
                for impl in self.pm.get_hookcallers(plugin) or []
            ),
        )
        self._stages = None
        self._sinks = None

    def add_observer(self, plugin: Any, name: str) -> None:
        """Register hook implementations of the running program itself (a worker's stage
        metrics): called as plugins are, but not an installed plugin, so not listed."""
        self.pm.register(plugin, name=name)

    def _mark_broken(self, name: str, error: str, distribution: str | None = None) -> None:
        log.warning("plugin skipped", plugin=name, error=error)
        self.broken.append(BrokenPlugin(name=name, error=error, distribution=distribution))
        plugin = self.pm.get_plugin(name)
        if plugin is not None:
            self.pm.unregister(plugin)
        self.info.pop(name, None)

    # -- hooks -------------------------------------------------------------------------

    def per_plugin(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call a hook on each plugin separately, so one raising only skips that plugin."""
        results: list[tuple[str, Any]] = []
        hook = getattr(self.pm.hook, hook_name)
        for impl in list(hook.get_hookimpls()):
            others = [p for p in self.pm.get_plugins() if p is not impl.plugin]
            caller = self.pm.subset_hook_caller(hook_name, remove_plugins=others)
            try:
                out = caller(**kwargs)
            except Exception as exc:
                self._mark_broken(impl.plugin_name, f"{hook_name} raised "
                                  f"{type(exc).__name__}: {exc}")
                continue
            results.append((impl.plugin_name, out[0] if out else None))
        return results

    def stages(self) -> list[StageEntry]:
        """Every stage class contributed by a working plugin, validated."""
        if self._stages is not None:
            return self._stages
        entries: list[StageEntry] = []
        names: dict[str, str] = {}
        for plugin_name, contributed in self.per_plugin("register_stages"):
            if contributed is None:
                continue
            if not isinstance(contributed, list | tuple):
                self._mark_broken(plugin_name, "register_stages must return a list of Stage "
                                  f"classes, got {type(contributed).__name__}")
                continue
            problems = [p for stage in contributed for p in declaration_problems(stage)]
            clash = [s.name for s in contributed if s.name in names]
            problems += [f"stage name {n!r} is already taken by plugin {names[n]!r}"
                         for n in clash]
            if problems:
                self._mark_broken(plugin_name, "bad stage declaration: " + "; ".join(problems))
                continue
            version = self.info[plugin_name].version if plugin_name in self.info else "0"
            for stage in contributed:
                names[stage.name] = plugin_name
                entries.append(StageEntry(stage=stage, plugin=plugin_name, version=version))
                if plugin_name in self.info:
                    self.info[plugin_name].stages.append(stage.name)
        self._stages = entries
        return entries

    def sinks(self) -> list[SinkEntry]:
        """Every sink class contributed by a working plugin, validated."""
        if self._sinks is not None:
            return self._sinks
        entries: list[SinkEntry] = []
        names: dict[str, str] = {}
        for plugin_name, contributed in self.per_plugin("register_sinks"):
            if contributed is None:
                continue
            if not isinstance(contributed, list | tuple):
                self._mark_broken(plugin_name, "register_sinks must return a list of Sink "
                                  f"classes, got {type(contributed).__name__}")
                continue
            problems = [p for sink in contributed for p in sink_problems(sink)]
            problems += [f"sink name {s.name!r} is already taken by plugin {names[s.name]!r}"
                         for s in contributed if not problems and s.name in names]
            if problems:
                self._mark_broken(plugin_name, "bad sink declaration: " + "; ".join(problems))
                continue
            for sink in contributed:
                names[sink.name] = plugin_name
                entries.append(SinkEntry(sink=sink, plugin=plugin_name))
                if plugin_name in self.info:
                    self.info[plugin_name].sinks.append(sink.name)
        self._sinks = entries
        return entries

    def document_finished(self, document: Any, settings: Any) -> None:
        """Call the ``document_finished`` hook through pluggy, so it is traced, ordered
        (``tryfirst``/``trylast``, else the last registered first) and wrappable.

        An observer that raises is logged by plugin name and does not fail the document;
        the observers after it in pluggy's order are then still called, once each, without
        the wrappers (which already saw the exception, as pluggy reports it)."""
        caller: Any = self.pm.hook.document_finished
        while True:
            impls = list(caller.get_hookimpls())
            try:
                caller(document=document, settings=settings)
                return
            except Exception as exc:
                order = [i for i in reversed(impls) if not (i.hookwrapper or i.wrapper)]
                culprit = _raising_impl(exc, impls)
                log.error("document_finished hook failed",
                          plugin=culprit.plugin_name if culprit else None,
                          document_id=getattr(document, "id", None),
                          error=f"{type(exc).__name__}: {exc}")
                if culprit is None or culprit not in order:
                    return  # a wrapper raised, or we cannot tell who: nothing to resume
                rest = [i.plugin for i in order[order.index(culprit) + 1:]]
                if not rest:
                    return
                others = [p for p in self.pm.get_plugins() if all(p is not r for r in rest)]
                caller = self.pm.subset_hook_caller("document_finished", remove_plugins=others)

    def register_commands(self, cli: Any) -> None:
        self.per_plugin("register_commands", cli=cli)

    def shared_state(self, settings: Any) -> Any:
        """The shared-state backend a plugin offers (the queue's Redis), or None."""
        return self.pm.hook.shared_state(settings=settings)

    def reprocess_stored(self, state: Any, status: str, limit: int | None, dry_run: bool,
                         as_json: bool) -> bool:
        """Run ``copydesk reprocess --stored`` through the plugin that reaches the store (the
        queue's); False when no loaded plugin does."""
        handled = self.pm.hook.reprocess_stored(state=state, status=status, limit=limit,
                                                dry_run=dry_run, as_json=as_json)
        return handled is not None

    def layer_panel(self, name: str, layer: Any, document: Any, view: str) -> Any:
        """A plugin's own panel for the layer ``extensions[name]`` in ``view``, or None
        (also when the hook raised: that is logged, and the view draws its default)."""
        try:
            return self.pm.hook.layer_panel(name=name, layer=layer, document=document,
                                            view=view)
        except Exception as exc:
            log.error("layer_panel hook failed", layer=name, view=view,
                      error=f"{type(exc).__name__}: {exc}")
            return None


def _raising_impl(exc: BaseException, impls: Sequence[Any]) -> Any:
    """The hook implementation whose own frame is in ``exc``'s traceback (outermost first),
    or ``None`` when no implementation's code appears there. Instances of one class share
    their method's code, so a method is matched by its ``self`` as well."""
    by_code: dict[Any, list[Any]] = {}
    for impl in impls:
        code = getattr(impl.function, "__code__", None)
        if code is not None:
            by_code.setdefault(code, []).append(impl)
    tb = exc.__traceback__
    while tb is not None:
        for impl in by_code.get(tb.tb_frame.f_code, ()):
            owner = getattr(impl.function, "__self__", None)
            if owner is None or tb.tb_frame.f_locals.get("self") is owner:
                return impl
        tb = tb.tb_next
    return None


def _trace_before(hook_name: str, hook_impls: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
    log.info("hook call", hook=hook_name, plugins=[i.plugin_name for i in hook_impls],
             arguments={k: _short(v) for k, v in kwargs.items()})


def _trace_after(outcome: Any, hook_name: str, hook_impls: Sequence[Any],
                 kwargs: Mapping[str, Any]) -> None:
    exc = outcome.exception
    log.info("hook result", hook=hook_name,
             result=_short(outcome.get_result()) if exc is None else None,
             error=f"{type(exc).__name__}: {exc}" if exc else None)


def _short(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def build_plugin_manager(settings: Any) -> PluginManager:
    """A manager with every allowed installed plugin loaded, per ``settings``."""
    manager = PluginManager(
        load=settings.load_plugins,
        disable=settings.disable_plugins,
        trace=settings.trace_plugins,
    )
    manager.load_entry_points()
    return manager
