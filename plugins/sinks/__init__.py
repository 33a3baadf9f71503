"""The built-in sinks: ``postgres``, ``parquet`` and ``jsonl``.

Each is its own plugin (entry points of the same names in copydesk's ``pyproject.toml``),
registered through the ``register_sinks`` hook exactly as a third party's sink would be.
``rows`` turns a Document into the rows of the archive's tables, for the sinks that have
tables.
"""
