"""The hooks a copydesk plugin can implement: this file is the plugin author's reference.

A plugin is a module (or object) registered under the ``copydesk`` entry-point group.
It implements any of the hooks below with the ``@hookimpl`` decorator::

    from copydesk import hookimpl

    @hookimpl
    def register_stages():
        return [MyStage]

Built-in plugins (cleaning, entities, numbers, quotes, summary, queue, and the sinks
postgres, parquet and jsonl) are loaded the same way, from copydesk's own ``pyproject.toml``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click
    from copydesk.document import Document
    from copydesk.settings import Settings
    from copydesk.sinks import Sink
    from copydesk.stage import Stage

PROJECT = "copydesk"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_stages() -> list[type[Stage]]:  # type: ignore[empty-body]
    """Return the stage classes this plugin contributes.

    Each is a subclass of ``copydesk.Stage`` declaring ``name``, ``requires``,
    ``provides`` and ``Config``. A malformed declaration is reported with the
    plugin's name and the plugin is skipped, not the whole program.
    """


@hookspec
def register_sinks() -> list[type[Sink[Any]]]:  # type: ignore[empty-body]
    """Return the sink classes this plugin contributes: places finished Documents are kept.

    Each is a subclass of ``copydesk.sinks.Sink`` declaring ``name`` and a pydantic
    ``Config`` (``class MySink(Sink[MyConfig])``), validated from the settings table
    ``[sinks.NAME]`` (environment ``COPYDESK_SINKS__NAME__FIELD``); the sink is on when that
    table is set. ``open()`` connects, ``write(documents)`` stores a batch and commits,
    returning the Documents it can never store (``Refusal``, dead-lettered with the reason),
    and raises ``SinkUnavailable``, naming the setting, when it cannot take the batch now::

        class CsvConfig(SinkConfig):
            path: Path

        class CsvSink(Sink[CsvConfig]):
            name = "csv"

            def write(self, documents):
                with self.config.path.open("a") as out:
                    for doc in documents:
                        out.write(f"{doc.id},{len(doc.entities)}\n")
                return []

        @hookimpl
        def register_sinks():
            return [CsvSink]

    ``copydesk process FILES --sink csv`` writes to it in-process; on the queue,
    ``copydesk sink csv`` drains the outbox into it (at least once: a batch may come again
    after a crash, so a write should replace a Document's rows by its id). A malformed
    declaration is reported with the plugin's name and the plugin is skipped.
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add commands to the ``copydesk`` command line.

    ``cli`` is the top-level click group; add to it with ``@cli.command()``.
    The queue (``worker``, ``submit``, ``status``…) is contributed this way.

    A command reaches the loaded settings (environment, ``--config`` file and the global
    flags, wherever on the command line they were given) through click's context object,
    a ``copydesk.cli.CliState``: ``state.settings`` is the ``Settings``, ``state.plugins``
    the plugin manager and ``state.pipeline()`` builds the configured pipeline::

        @hookimpl
        def register_commands(cli):
            @cli.command()
            @click.pass_obj
            def tone_report(state):
                options = state.settings.stage.get("tone", {})
                ...

    (``click.get_current_context().obj`` is the same object.)
    """


@hookspec(firstresult=True)
def reprocess_stored(state: Any, status: str, limit: int | None, dry_run: bool,
                     as_json: bool) -> Any:
    """Run ``copydesk reprocess --stored``: plan the stored Documents of ``status`` (at most
    ``limit``) against the workers' pipeline and, unless ``dry_run``, enqueue the stale ones.

    ``state`` is the command's ``copydesk.cli.CliState``. The queue plugin implements it;
    return anything but ``None`` when handled (the first plugin to do so wins). Without an
    implementation the command says it needs the queue plugin.
    """


@hookspec
def document_finished(document: Document, settings: Settings) -> Any:
    """Observe a document after the last stage ran (``status`` is done or failed).

    Called once per document, in-process and in workers: use it for metrics,
    sinks or notifications. It must not change the document; an exception is
    logged with the plugin's name and does not fail the document.

    It is an ordinary pluggy hook: ``trace_plugins = true`` (``COPYDESK_TRACE_PLUGINS=1``)
    traces it, ``@hookimpl(tryfirst=True)`` / ``trylast=True`` order the observers (else
    the last registered runs first), and ``@hookimpl(wrapper=True)`` wraps them all::

        @hookimpl(wrapper=True)
        def document_finished(document, settings):
            started = time.perf_counter()
            result = yield          # the other observers run here
            record(time.perf_counter() - started)
            return result

    When an observer raises, the observers after it in that order still run, once each,
    but outside the wrappers (a wrapper sees the exception at its ``yield``).
    """


@hookspec(firstresult=True)
def layer_panel(name: str, layer: Any, document: Document, view: str) -> Any:
    """Draw the panel of a plugin layer in the terminal or HTML view of a Document.

    Called once per key of ``document.extensions`` (``name``; ``layer`` is its JSON
    data) when a view is drawn. ``view`` is ``"terminal"``, for a rich renderable (a
    ``Table``, a ``Panel``, a string), or ``"html"``, for a ``markupsafe.Markup`` of HTML
    that escapes whatever came from the article (build it with ``markupsafe.escape`` or
    ``Markup.format``; a plain ``str`` is shown as escaped text, never as markup). Return
    ``None`` for a layer that is not yours, or a view you do not draw: copydesk then
    draws its default panel, a table of the layer's spans and fields. Either way the
    layer's spans are marked on the text, with their ``label``.

    The first plugin to return something wins (``tryfirst`` to go ahead of others)::

        @hookimpl
        def layer_panel(name, layer, document, view):
            if name == "tone" and view == "terminal":
                return f"tone score: {layer['score']:.2f}"
            return None

    A panel that raises is logged with the plugin's name and the default panel is drawn.
    """


@hookspec(firstresult=True)
def shared_state(settings: Settings) -> Any:
    """The ``copydesk.state.StateBackend`` that workers share, or ``None``.

    Cross-article stages keep what they remember in ``services.state``; in-process it lives
    in memory. The queue plugin answers with its Redis backend: workers install it in
    their pipeline, and readers of that state (``copydesk stories``, the gateway) use it.
    ``copydesk process`` never asks (its state stays in the process). The first plugin to
    return a backend wins.
    """
