"""Package discovery for setuptools (everything else is in pyproject.toml).

The import package ``copydesk`` is the folder ``core/``; ``src/copydesk`` is a symlink to it
(and ``core/plugins``, ``core/workers`` are symlinks to the top-level folders), so ``src/``
is an ordinary src layout: this finds every package under it, a new subpackage ships without
editing a list, and ``pip install -e .`` puts ``src/`` on the path with a plain ``.pth``
line, which type checkers follow (an import hook they cannot).
"""

import shutil
from pathlib import Path

from setuptools import find_packages, setup

# An install made before src/ existed wrote its metadata to ./copydesk.egg-info, where it
# is never updated again; left there it would shadow the installed metadata (the entry
# points, so the plugins) for anything run from the clone's root, such as the tests.
shutil.rmtree(Path(__file__).resolve().parent / "copydesk.egg-info", ignore_errors=True)

setup(packages=find_packages("src"))
