"""``copydesk plugins`` and ``copydesk schema``: what is installed, and the Document's
JSON Schema with the installed layers."""

from __future__ import annotations

import json
import sys

import click
from copydesk.cli.root import CliState, err_console
from copydesk.document import Article
from copydesk.jsonsafe import printable
from copydesk.layers import document_schema, engine_layers
from copydesk.views.terminal import out_console


@click.command()
@click.option("--json", "as_json", is_flag=True,
              help="Machine-readable output, with each stage's config JSON Schema.")
@click.option("--check", is_flag=True,
              help="Exit 1 when a plugin is broken or a configured stage cannot run (the "
              "pipeline is built and every stage's setup() runs): for CI and health checks.")
@click.pass_obj
def plugins(state: CliState, as_json: bool, check: bool) -> None:
    """Installed plugins, their stages (description, requires/provides/optional, config
    options), broken plugins and the resolved order."""
    from copydesk.cli import plugin_report

    data = plugin_report.describe(state.plugins, state.settings)
    problems = plugin_report.check(state.plugins, state.settings) if check else []
    if as_json:
        if check:
            data["check"] = {"ok": not problems, "problems": problems}
        click.echo(json.dumps(data, indent=2))
    else:
        plugin_report.render(data, out_console())
    if not check:
        return
    for problem in problems:
        err_console.print(f"[red]check failed[/red]: {printable(problem)}", highlight=False,
                          markup=True)
    if problems:
        sys.exit(1)
    err_console.print("check: every plugin loads and every configured stage can run",
                      highlight=False)


@click.command()
@click.option("--article", is_flag=True, help="Print the submitted-article schema instead.")
@click.pass_obj
def schema(state: CliState, article: bool) -> None:
    """Print the JSON Schema of the Document, with the layers of installed plugins'
    stages and the engine's own (``language``) under ``extensions`` (or the schema of a
    submitted article)."""
    if article:
        data = Article.model_json_schema()
    else:
        layers = {**engine_layers(), **{e.stage.name: e.stage.Layer
                                        for e in state.plugins.stages()
                                        if e.stage.Layer is not None}}
        data = document_schema(layers)
    click.echo(json.dumps(data, indent=2))


def register_commands(cli: click.Group) -> None:
    """Add ``plugins`` and ``schema`` to the ``copydesk`` group."""
    cli.add_command(plugins)
    cli.add_command(schema)
