"""The root of the ``copydesk`` command line: the group with its global options, the
settings and plugins every command gets (``CliState``), and ``main``.

No command is defined here: each built-in command module (``copydesk.cli.process``,
``describe``, ``authoring``, ``reprocess``) and each plugin adds its own through a
``register_commands(cli)`` function, the plugins' through the hook of that name
(``copydesk.cli`` does the registering).
"""

from __future__ import annotations

import sys
from typing import Any

import click
from copydesk.cli.globalopts import GlobalOptionsGroup
from copydesk.logs import configure_logging
from copydesk.pipeline import Pipeline, PipelineError
from copydesk.plugin_manager import PluginManager, build_plugin_manager
from copydesk.settings import ConfigFileError, Settings, load_settings
from rich.console import Console
from rich.markup import escape

err_console = Console(stderr=True, soft_wrap=True)

class CliState:
    """Settings and plugins, built once per invocation and shared by every command.

    It is click's context object: a command (a plugin's too, see ``register_commands`` in
    ``copydesk.hookspecs``) gets it with ``@click.pass_obj``."""

    def __init__(self, settings: Settings, plugins: PluginManager) -> None:
        self.settings = settings
        self.plugins = plugins

    def pipeline(self) -> Pipeline:
        try:
            return Pipeline.build(self.settings, self.plugins)
        except PipelineError as exc:
            raise click.ClickException(f"cannot build the pipeline: {exc}") from None


def fail(message: str) -> click.ClickException:
    return click.ClickException(message)


def _bootstrap_settings() -> Settings:
    """Settings from the environment only, to know which plugins to load at import time."""
    try:
        return load_settings()
    except Exception as exc:
        err_console.print(f"[red]copydesk: invalid settings: {escape(str(exc))}[/red]")
        return Settings.model_construct()


_boot = _bootstrap_settings()
configure_logging(_boot.log_format, _boot.log_level or "WARNING")
_plugins = build_plugin_manager(_boot)


def boot_plugins() -> PluginManager:
    """The plugins loaded at import time (from the environment's settings): the ones whose
    ``register_commands`` hook adds commands."""
    return _plugins


def _plugins_for(settings: Settings) -> PluginManager:
    """The import-time plugins, or a fresh set when a --config file changes which to load."""
    def choice(s: Settings) -> tuple[Any, ...]:
        return (s.load_plugins, s.disable_plugins, s.trace_plugins)

    if choice(settings) == choice(_boot):
        return _plugins
    return build_plugin_manager(settings)


@click.group(cls=GlobalOptionsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="copydesk")
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              envvar="COPYDESK_CONFIG", help="TOML settings file.")
@click.option("--log-format", type=click.Choice(["console", "json", "auto"]), default=None,
              help="Log format (default: console on a terminal, JSON otherwise).")
@click.option("--log-level", default=None, help="Log level, e.g. DEBUG, INFO, WARNING.")
@click.option("--model", "spacy_model", default=None, help="spaCy pipeline to load by name.")
@click.option("--stages", default=None,
              help="Comma-separated stages to run (default: all installed).")
@click.pass_context
def cli(ctx: click.Context, config_file: str | None, log_format: str | None,
        log_level: str | None, spacy_model: str | None, stages: str | None) -> None:
    """copydesk: clean, annotate and summarize news articles, in-process or on a queue.

    Start with `copydesk process ARTICLE.txt`. Settings come from COPYDESK_*
    environment variables, a TOML file (--config) and these flags, which may also
    follow the command (`copydesk process a.txt --config c.toml`).
    """
    overrides: dict[str, Any] = {"log_format": log_format, "log_level": log_level}
    try:
        settings = load_settings(config_file, **overrides)
    except (ConfigFileError, ValueError) as exc:
        raise fail(f"invalid settings: {exc}") from None
    if spacy_model:
        settings.spacy.model = spacy_model
    if stages is not None:
        settings.pipeline.stages = [s.strip() for s in stages.split(",") if s.strip()]
    configure_logging(settings.log_format, settings.log_level or "WARNING")
    ctx.obj = CliState(settings, _plugins_for(settings))


def main() -> None:
    """Console-script entry point."""
    try:
        cli(prog_name="copydesk")
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
