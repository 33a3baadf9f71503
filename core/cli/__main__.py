"""``python -m copydesk.cli``: the command line, as the ``copydesk`` script runs it."""

from copydesk.cli import main

main()
