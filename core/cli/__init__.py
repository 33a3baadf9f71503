"""The ``copydesk`` command line: the root group (``root``) and one module per group of
built-in commands, each adding its own with ``register_commands(cli)``; plugins add theirs
the same way, through the hook of that name (the queue's are in ``copydesk.workers.commands``).

``copydesk.cli:main`` is the console script; ``cli`` is the click group and ``CliState``
the context object every command gets with ``@click.pass_obj``.
"""

from copydesk.cli import authoring, describe, process, reprocess, stories
from copydesk.cli.root import CliState, boot_plugins, cli, main

#: The built-in command modules, in the order their commands are added.
BUILTIN_COMMANDS = (process, describe, reprocess, stories, authoring)

for _module in BUILTIN_COMMANDS:
    _module.register_commands(cli)
boot_plugins().register_commands(cli)

__all__ = ["BUILTIN_COMMANDS", "CliState", "cli", "main"]
