"""The sink protocol: where finished Documents are kept beyond Redis (a database, files).

A sink is a class contributed by a plugin through the ``register_sinks`` hook. It declares
a ``name`` (its settings table is ``[sinks.NAME]``, environment
``COPYDESK_SINKS__NAME__FIELD``) and a pydantic ``Config`` (``Sink[MyConfig]`` sets it);
``open()`` connects (and prepares, e.g. migrates a schema), ``write(documents)`` stores a
batch and commits it, ``close()`` lets go. A sink is on when its table is set.

Two kinds of trouble are told apart, because the caller does different things with them:

- ``SinkUnavailable``: the sink cannot be reached or cannot commit now (a database down, a
  directory not writable). Nothing of the batch is known to be stored; the caller keeps the
  batch and tries again later. The message names the setting to look at.
- a ``Refusal`` returned by ``write``: this one Document cannot be stored, whatever the
  retries (PostgreSQL refuses a NUL character). The others of the batch are stored; the
  caller dead-letters the refused one with the reason.

Writes must be idempotent by Document id (a Document written twice replaces its rows) or
say in their docstring that they append: delivery from the queue is at least once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Self, get_args, get_origin

from copydesk.logs import get_logger
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from typing_extensions import TypeVar

if TYPE_CHECKING:
    from copydesk.document import Document
    from copydesk.plugin_manager import PluginManager
    from copydesk.settings import Settings


class SinkConfig(BaseModel):
    """Base of every sink's config model (``[sinks.NAME]``): unknown keys are an error."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    batch_size: int = Field(
        default=200, ge=1, le=100_000,
        description="Most Documents written (and committed) at once.",
    )


ConfigT = TypeVar("ConfigT", bound=SinkConfig, default=SinkConfig, covariant=True)


class SinkUnavailable(Exception):
    """The sink cannot be reached or cannot commit now; the message names the setting."""


class SinkSetupError(ValueError):
    """A sink that is unknown, not configured or configured wrongly; the message says which
    setting to change."""


@dataclass(frozen=True)
class Refusal:
    """A Document the sink cannot store, whatever the retries, and why."""

    document_id: str
    reason: str


class Sink(Generic[ConfigT]):
    """Base class for sinks. Subclasses set ``name`` and implement ``write``."""

    #: Unique sink name; also its settings table, ``[sinks.NAME]``.
    name: ClassVar[str] = ""
    #: One line for ``copydesk plugins``.
    description: ClassVar[str] = ""
    #: The model ``[sinks.NAME]`` is validated against (from ``Sink[Model]`` when unset).
    Config: ClassVar[type[SinkConfig]] = SinkConfig

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "Config" in cls.__dict__:
            return
        for base in cls.__dict__.get("__orig_bases__", ()):
            origin = get_origin(base)
            args = get_args(base)
            if (isinstance(origin, type) and issubclass(origin, Sink) and args
                    and isinstance(args[0], type) and issubclass(args[0], SinkConfig)):
                cls.Config = args[0]

    def __init__(self, config: ConfigT) -> None:
        self.config: ConfigT = config

    def setting(self, field: str) -> str:
        """How a user sets ``field`` of this sink: ``sinks.NAME.FIELD`` and its variable."""
        return setting_name(self.name, field)

    def open(self) -> None:
        """Connect and prepare (create tables, migrate); raise ``SinkUnavailable`` naming
        the setting when that cannot be done."""

    def write(self, documents: Sequence[Document]) -> list[Refusal]:
        """Store ``documents`` and commit; return the ones that cannot be stored ever.

        Raise ``SinkUnavailable`` when the sink cannot take the batch now."""
        raise NotImplementedError(f"sink {self.name!r} does not implement write()")

    def close(self) -> None:
        """Let go of connections and files."""

    #: Whether ``read`` can give Documents back (reads of ids Redis no longer holds fall
    #: back to the sinks that can).
    readable: ClassVar[bool] = False

    def read(self, ids: Sequence[str]) -> dict[str, str]:
        """The stored Document JSON of each of ``ids`` the sink holds (``readable`` sinks
        only). Raise ``SinkUnavailable`` when the sink cannot be reached."""
        return {}

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def setting_name(sink: str, field: str) -> str:
    """``sinks.postgres.url (COPYDESK_SINKS__POSTGRES__URL)``."""
    return f"sinks.{sink}.{field} (COPYDESK_SINKS__{sink.upper()}__{field.upper()})"


def declaration_problems(sink: Any) -> list[str]:
    """Why ``sink`` is not a usable sink class (empty when it is)."""
    if not isinstance(sink, type) or not issubclass(sink, Sink):
        return [f"{sink!r} is not a subclass of copydesk.sinks.Sink"]
    problems = []
    if not isinstance(sink.name, str) or not sink.name.isidentifier():
        problems.append(f"{sink.__name__}.name must be an identifier, got {sink.name!r}")
    if not isinstance(sink.Config, type) or not issubclass(sink.Config, SinkConfig):
        problems.append(f"{sink.__name__}.Config must be a subclass of SinkConfig")
    if sink.write is Sink.write:
        problems.append(f"{sink.__name__} does not implement write()")
    return problems


log = get_logger("copydesk.sinks")


def configured_names(settings: Settings) -> list[str]:
    """The sinks that are on: every ``[sinks.NAME]`` table that is set."""
    return sorted(settings.sinks.tables())


def build_sink(name: str, settings: Settings, plugins: PluginManager) -> Sink[SinkConfig]:
    """The sink ``name`` with its validated config (not yet opened)."""
    classes = {entry.sink.name: entry for entry in plugins.sinks()}
    if name not in classes:
        installed = ", ".join(sorted(classes)) or "none"
        raise SinkSetupError(f"no sink named {name!r} is installed (installed sinks: "
                             f"{installed})")
    tables = settings.sinks.tables()
    if name not in tables:
        sink = classes[name].sink
        required = [f for f, info in sink.Config.model_fields.items() if info.is_required()]
        hint = (f"; it needs {', '.join(setting_name(name, f) for f in required)}"
                if required else "")
        raise SinkSetupError(f"sink {name!r} is not configured: set the table [sinks.{name}] "
                             f"in the config file{hint}")
    sink_class = classes[name].sink
    try:
        config = sink_class.Config.model_validate(tables[name])
    except ValidationError as exc:
        raise SinkSetupError("; ".join(
            f"{setting_name(name, '.'.join(str(p) for p in err['loc']))}: {err['msg']}"
            for err in exc.errors())) from None
    return sink_class(config)


def build_sinks(names: Iterable[str], settings: Settings,
                plugins: PluginManager) -> list[Sink[SinkConfig]]:
    """``build_sink`` for each name, in order, once each."""
    return [build_sink(n, settings, plugins) for n in dict.fromkeys(names)]


def check_sinks(settings: Settings, plugins: PluginManager) -> list[str]:
    """Why a configured sink cannot be used here, one line each (``plugins --check``)."""
    problems = []
    for name in configured_names(settings):
        try:
            sink = build_sink(name, settings, plugins)
            with sink:
                pass
        except (SinkSetupError, SinkUnavailable) as exc:
            problems.append(f"sink {name!r}: {exc}")
    return problems


def read_archived(ids: Sequence[str], settings: Settings, plugins: PluginManager
                  ) -> dict[str, str]:
    """Document JSON by id from the configured sinks that can read back, for ids the
    queue no longer holds (``sinks.keep_in_redis`` passed). A sink that cannot be reached
    is skipped with a warning; the others are asked in turn."""
    found: dict[str, str] = {}
    classes = {entry.sink.name: entry.sink for entry in plugins.sinks()}
    for name in configured_names(settings):
        wanted = [i for i in ids if i not in found]
        if not wanted:
            break
        if name not in classes or not classes[name].readable:
            continue
        try:
            with build_sink(name, settings, plugins) as sink:
                found.update(sink.read(wanted))
        except (SinkSetupError, SinkUnavailable) as exc:
            log.warning("cannot read back from the archive", sink=name, error=str(exc))
    return found


class SinkWriter:
    """Documents written to some sinks in batches as they come (``process --sink``).

    Each sink gets every Document once, in batches of its ``batch_size``; ``refused``
    collects what a sink could not store, with the sink's name. ``SinkUnavailable``
    propagates: in-process there is no outbox to keep the batch in."""

    def __init__(self, sinks: Sequence[Sink[SinkConfig]]) -> None:
        self.sinks = list(sinks)
        self._pending: dict[str, list[Document]] = {s.name: [] for s in self.sinks}
        self.written: dict[str, int] = dict.fromkeys(self._pending, 0)
        self.refused: list[tuple[str, Refusal]] = []

    def __enter__(self) -> Self:
        opened: list[Sink[SinkConfig]] = []
        try:
            for sink in self.sinks:
                sink.open()
                opened.append(sink)
        except BaseException:
            for sink in opened:
                sink.close()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for sink in self.sinks:
            sink.close()

    def add(self, document: Document) -> None:
        for sink in self.sinks:
            pending = self._pending[sink.name]
            pending.append(document)
            if len(pending) >= sink.config.batch_size:
                self._flush(sink)

    def flush(self) -> None:
        for sink in self.sinks:
            self._flush(sink)

    def _flush(self, sink: Sink[SinkConfig]) -> None:
        pending = self._pending[sink.name]
        if not pending:
            return
        refused = sink.write(pending)
        self.refused.extend((sink.name, r) for r in refused)
        self.written[sink.name] += len(pending) - len(refused)
        pending.clear()
