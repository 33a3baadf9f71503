"""The ``copydesk`` command line: the root group (``root``) and one module per group of
built-in commands; plugins add theirs through the ``register_commands`` hook.

``copydesk.cli:main`` is the console script; ``cli`` is the click group and ``CliState``
the context object every command gets with ``@click.pass_obj``.
"""

from copydesk.cli.root import CliState, cli, main

__all__ = ["CliState", "cli", "main"]
