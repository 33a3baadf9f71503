"""Package discovery for setuptools (everything else is in pyproject.toml).

The import package ``copydesk`` is the folder ``core/`` (``package-dir``), so setuptools'
automatic discovery, which names packages after folders, cannot find it. This finds every
package under ``core/`` (following the ``plugins`` and ``workers`` symlinks) and prefixes it,
so a new subpackage ships without editing a list.
"""

from setuptools import find_packages, setup

setup(packages=["copydesk", *(f"copydesk.{name}" for name in find_packages("core"))])
