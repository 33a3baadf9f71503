"""Commands for plugin authors and users: ``plugin new``, ``install`` and ``uninstall``.

``copydesk install PKG…`` runs pip with the interpreter copydesk itself runs on
(``sys.executable -m pip``), so a plugin lands in copydesk's environment whichever
``pip`` is first on the PATH, as ``llm install`` and ``datasette install`` do.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import click
from copydesk.cli.scaffold import ScaffoldError, create


def _pip(*args: str) -> int:
    return subprocess.run([sys.executable, "-m", "pip", *args], check=False).returncode


def _installed_plugins() -> list[str]:
    """Plugin names as a fresh interpreter sees them (pip may have added .pth files)."""
    code = ("import importlib.metadata as m; "
            "print('\\n'.join(sorted({e.name for e in m.entry_points(group='copydesk')})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=False)
    return out.stdout.split()


@click.group()
def plugin() -> None:
    """Write a new plugin package (see also: copydesk plugins, install, uninstall)."""


@plugin.command("new")
@click.argument("name")
@click.option("--dir", "parent", type=click.Path(file_okay=False, path_type=Path),
              default=Path("."), show_default=True,
              help="Directory to create the package NAME/ in.")
@click.pass_context
def plugin_new(ctx: click.Context, name: str, parent: Path) -> None:
    """Create NAME/: a plugin package with a stage, a config, a typed layer and tests.

    Then `pip install -e ./NAME && pytest ./NAME` (or `copydesk install -e ./NAME`).
    """
    from copydesk import __version__

    taken: dict[str, str] = {}
    plugins: Any = getattr(ctx.obj, "plugins", None)
    if plugins is not None:
        taken = {e.stage.name: e.plugin for e in plugins.stages()}
    try:
        target = create(name, parent, __version__, taken)
    except ScaffoldError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {target}/ (plugin {name}). Next:\n"
               f"  pip install -e {target}    # or: copydesk install -e {target}\n"
               f"  pytest {target}\n"
               "  copydesk plugins")


@click.command()
@click.argument("packages", nargs=-1)
@click.option("-e", "--editable", "editables", multiple=True, metavar="PATH",
              help="Install a local project in editable mode (repeatable).")
@click.option("-U", "--upgrade", is_flag=True, help="Upgrade the packages to the newest.")
@click.option("--force-reinstall", is_flag=True, help="Reinstall even when up to date.")
@click.option("--no-cache-dir", is_flag=True, help="Do not use pip's cache.")
@click.option("--pre", is_flag=True, help="Include pre-release versions.")
@click.option("--no-build-isolation", is_flag=True,
              help="Build with the packages already installed (setuptools), offline.")
def install(packages: tuple[str, ...], editables: tuple[str, ...], upgrade: bool,
            force_reinstall: bool, no_cache_dir: bool, pre: bool,
            no_build_isolation: bool) -> None:
    """Install plugin packages into copydesk's own environment (pip, same interpreter)."""
    if not packages and not editables:
        raise click.UsageError("name at least one package, or -e PATH")
    flags = [flag for flag, on in (("--upgrade", upgrade), ("--force-reinstall", force_reinstall),
                                   ("--no-cache-dir", no_cache_dir), ("--pre", pre),
                                   ("--no-build-isolation", no_build_isolation)) if on]
    before = set(_installed_plugins())
    args = [*flags, *[a for path in editables for a in ("-e", path)], *packages]
    code = _pip("install", *args)
    if code != 0:
        raise click.ClickException(f"pip install failed (exit {code}); nothing else changed")
    added = sorted(set(_installed_plugins()) - before)
    click.echo("new plugins: " + ", ".join(added) if added
               else "no new plugins (copydesk plugins lists what is installed)")


@click.command()
@click.argument("packages", nargs=-1, required=True)
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
def uninstall(packages: tuple[str, ...], yes: bool) -> None:
    """Uninstall packages from copydesk's own environment (pip, same interpreter)."""
    if not yes and not sys.stdin.isatty():
        raise click.UsageError("standard input is not a terminal, so pip cannot ask before "
                               "removing: add -y to uninstall without asking")
    code = _pip("uninstall", *(["-y"] if yes else []), *packages)
    if code != 0:
        raise click.ClickException(f"pip uninstall failed (exit {code})")


def register_commands(cli: click.Group) -> None:
    """Attach these commands to the ``copydesk`` group."""
    for command in (plugin, install, uninstall):
        cli.add_command(command)
