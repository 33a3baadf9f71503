"""The PostgreSQL archive's tables, and the forward migrations that create and change them.

``MIGRATIONS`` is append-only: version N's statements run once, in order, on a database at
version N-1, inside one transaction with the version row that records them
(``SCHEMA.schema_version``). A sink migrates on start; several starting at once take an
advisory lock, so one migrates and the others find it done. ``{schema}`` is the configured
schema's quoted name.
"""

from __future__ import annotations

from typing import Any

#: (version, statements). Never edit a released version: add the next one.
MIGRATIONS: list[tuple[int, list[str]]] = [
    (1, [
        """CREATE TABLE {schema}.documents (
            id text PRIMARY KEY,
            source text,
            url text,
            published_at timestamptz,
            language text,
            title text,
            text text NOT NULL,
            fingerprint text,
            archived_at timestamptz NOT NULL,
            story_id text,
            duplicate_of text,
            document jsonb NOT NULL
        )""",
        # an outlet's articles over time; everything over time
        "CREATE INDEX documents_source_published ON {schema}.documents (source, published_at)",
        "CREATE INDEX documents_published ON {schema}.documents (published_at)",
        "CREATE INDEX documents_story ON {schema}.documents (story_id) "
        "WHERE story_id IS NOT NULL",
        "CREATE INDEX documents_duplicate_of ON {schema}.documents (duplicate_of) "
        "WHERE duplicate_of IS NOT NULL",
        """CREATE TABLE {schema}.entities (
            document_id text NOT NULL REFERENCES {schema}.documents (id) ON DELETE CASCADE,
            start integer NOT NULL,
            "end" integer NOT NULL,
            label text NOT NULL,
            canonical text NOT NULL,
            text text NOT NULL
        )""",
        "CREATE INDEX entities_document ON {schema}.entities (document_id)",
        # an entity's mentions (over time, joined to documents)
        "CREATE INDEX entities_canonical ON {schema}.entities (canonical, label)",
        """CREATE TABLE {schema}.quotes (
            document_id text NOT NULL REFERENCES {schema}.documents (id) ON DELETE CASCADE,
            start integer NOT NULL,
            "end" integer NOT NULL,
            kind text NOT NULL,
            speaker text,
            cue text,
            text text NOT NULL
        )""",
        "CREATE INDEX quotes_document ON {schema}.quotes (document_id)",
        # quotes per speaker
        "CREATE INDEX quotes_speaker ON {schema}.quotes (speaker) WHERE speaker IS NOT NULL",
        """CREATE TABLE {schema}.numbers (
            document_id text NOT NULL REFERENCES {schema}.documents (id) ON DELETE CASCADE,
            start integer NOT NULL,
            "end" integer NOT NULL,
            kind text NOT NULL,
            value text,
            unit text,
            qualifier text,
            text text NOT NULL
        )""",
        "CREATE INDEX numbers_document ON {schema}.numbers (document_id)",
        "CREATE INDEX numbers_kind_unit ON {schema}.numbers (kind, unit)",
    ]),
]

LATEST = MIGRATIONS[-1][0]


def migrate(conn: Any, schema: str) -> tuple[int, int]:
    """Bring ``schema`` to ``LATEST`` on the psycopg connection ``conn`` (committed);
    returns the versions before and after. A database newer than this code raises
    ``RuntimeError``."""
    from psycopg import sql

    name = sql.Identifier(schema)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"copydesk.sink.{schema}",))
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(name))
        conn.execute(sql.SQL(
            "CREATE TABLE IF NOT EXISTS {}.schema_version (version integer PRIMARY KEY, "
            "applied_at timestamptz NOT NULL DEFAULT now())").format(name))
        row = conn.execute(sql.SQL("SELECT coalesce(max(version), 0) FROM {}.schema_version")
                           .format(name)).fetchone()
        current = int(row[0])
        if current > LATEST:
            raise RuntimeError(f"schema {schema!r} is at version {current}, newer than this "
                               f"copydesk knows ({LATEST}): upgrade copydesk")
        for version, statements in MIGRATIONS:
            if version <= current:
                continue
            for statement in statements:
                conn.execute(sql.SQL(statement).format(schema=name))
            conn.execute(sql.SQL("INSERT INTO {}.schema_version (version) VALUES (%s)")
                         .format(name), (version,))
    return current, LATEST
