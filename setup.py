"""Package discovery for setuptools (everything else is in pyproject.toml).

The import package ``copydesk`` is the folder ``core/``; ``src/copydesk`` is a symlink to it
(and ``core/plugins``, ``core/workers`` are symlinks to the top-level folders), so ``src/``
is an ordinary src layout: this finds every package under it, a new subpackage ships without
editing a list, and ``pip install -e .`` puts ``src/`` on the path with a plain ``.pth``
line, which type checkers follow (an import hook they cannot).
"""

from setuptools import find_packages, setup

setup(packages=find_packages("src"))
