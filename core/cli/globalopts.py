"""Global options that may follow the subcommand: ``copydesk process a.txt --config c.toml``.

click parses a group's own options only before the subcommand's name. ``GlobalOptionsGroup``
moves the group's value options (``--config``, ``--model``, ``--stages``, ``--log-level``,
``--log-format``) that appear after it to the front before click parses, so they mean the
same wherever a user's hands put them. An option the subcommand declares itself, and
anything after ``--``, is left where it is.
"""

from __future__ import annotations

from collections.abc import Sequence

import click


def _value_options(command: click.Command) -> set[str]:
    """The option strings of ``command``'s options that take a value."""
    names: set[str] = set()
    for param in command.params:
        if isinstance(param, click.Option) and not param.is_flag and not param.count:
            names.update(param.opts)
            names.update(param.secondary_opts)
    return names


def _option_strings(command: click.Command) -> set[str]:
    return {o for p in command.params if isinstance(p, click.Option)
            for o in (*p.opts, *p.secondary_opts)}


def _match(token: str, names: set[str]) -> tuple[str, bool] | None:
    """``(name, value_attached)`` when ``token`` is one of ``names`` (``--x`` or ``--x=v``)."""
    if token in names:
        return token, False
    head, sep, _ = token.partition("=")
    if sep and head in names:
        return head, True
    return None


def hoist_global_options(group: click.Group, ctx: click.Context,
                         args: Sequence[str]) -> list[str]:
    """``args`` with ``group``'s value options that follow the subcommand moved before it."""
    names = _value_options(group)
    args = list(args)
    # find the subcommand: the first bare word, skipping the values of the group's options
    sub_at, i = None, 0
    while i < len(args):
        token = args[i]
        if token == "--":
            break
        found = _match(token, names)
        if found is not None:
            i += 1 if found[1] else 2
            continue
        if not token.startswith("-"):
            sub_at = i
            break
        i += 1
    if sub_at is None:
        return args
    command = group.get_command(ctx, args[sub_at])
    own = _option_strings(command) if command is not None else set()
    hoistable = names - own
    front: list[str] = []
    rest: list[str] = args[:sub_at + 1]
    i = sub_at + 1
    while i < len(args):
        token = args[i]
        if token == "--":
            rest.extend(args[i:])
            break
        found = _match(token, hoistable)
        if found is not None and (found[1] or i + 1 < len(args)):
            width = 1 if found[1] else 2
            front.extend(args[i:i + width])
            i += width
            continue
        rest.append(token)
        i += 1
    return front + rest


class GlobalOptionsGroup(click.Group):
    """A click group whose own value options are accepted after the subcommand as well."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_global_options(self, ctx, args))
