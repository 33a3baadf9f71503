"""The ``postgres`` sink: finished Documents in PostgreSQL tables (psycopg 3).

``[sinks.postgres] url = "postgresql://USER:PASSWORD@HOST:PORT/DB"`` (``schema``, default
``copydesk``). On open it connects and migrates the schema forward (``pg_schema``). A
batch is one transaction: each Document's row is upserted by id and its entity, quote and
number rows are replaced, so writing a Document again (a re-run, a redelivery) leaves one
copy of it. A Document PostgreSQL refuses (a NUL character) is returned as a ``Refusal``
and the rest of the batch is stored.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from copydesk.document import Document
from copydesk.hookspecs import hookimpl
from copydesk.plugins.sinks.pg_schema import migrate
from copydesk.plugins.sinks.rows import (
    DOCUMENT_COLUMNS,
    ENTITY_COLUMNS,
    NUMBER_COLUMNS,
    QUOTE_COLUMNS,
    Rows,
)
from copydesk.sinks import Refusal, Sink, SinkConfig, SinkUnavailable
from pydantic import Field


class PostgresConfig(SinkConfig):
    url: str = Field(description="libpq connection URL: postgresql://USER:PASSWORD@HOST:PORT/DB.")
    db_schema: str = Field(
        default="copydesk", alias="schema", pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        description="The schema holding the archive's tables (created when missing).",
    )
    connect_timeout: int = Field(default=10, ge=1, description="Seconds to wait for a connection.")


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)


class PostgresSink(Sink[PostgresConfig]):
    """Documents, entities, quotes and numbers as PostgreSQL tables."""

    name = "postgres"
    description = "PostgreSQL tables documents, entities, quotes, numbers (upsert by id)"
    readable = True

    def __init__(self, config: PostgresConfig) -> None:
        super().__init__(config)
        self._conn: Any = None

    # -- connection --------------------------------------------------------------------

    def open(self) -> None:
        self._connect()
        try:
            migrate(self._conn, self.config.db_schema)
        except RuntimeError as exc:
            raise SinkUnavailable(f"{exc} (setting {self.setting('schema')})") from None
        except Exception as exc:
            self._drop()
            raise SinkUnavailable(self._why("cannot prepare the schema", exc)) from None

    def _connect(self) -> None:
        import psycopg

        try:
            self._conn = psycopg.connect(self.config.url,
                                         connect_timeout=self.config.connect_timeout,
                                         options="-c TimeZone=UTC")
        except (psycopg.Error, ValueError) as exc:
            self._conn = None
            raise SinkUnavailable(self._why("cannot connect", exc)) from None

    def _why(self, what: str, exc: BaseException) -> str:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        return (f"{what} to PostgreSQL at {redact(self.config.url)} "
                f"(setting {self.setting('url')}): {reason}")

    def _drop(self) -> None:
        if self._conn is not None:
            # a broken connection may fail to close: it is gone either way
            with contextlib.suppress(Exception):
                self._conn.close()
        self._conn = None

    def close(self) -> None:
        self._drop()

    # -- reading -----------------------------------------------------------------------

    def read(self, ids: Sequence[str]) -> dict[str, str]:
        """The archived Document JSON of each id (``copydesk result`` of an id Redis let
        go). The schema is migrated on open, so the table is there."""
        import psycopg
        from psycopg import sql

        if not ids:
            return {}
        if self._conn is None or self._conn.closed:
            self.open()
        query = sql.SQL("SELECT id, document::text FROM {}.documents WHERE id = ANY(%s)"
                        ).format(sql.Identifier(self.config.db_schema))
        try:
            with self._conn.transaction(), self._conn.cursor() as cur:
                cur.execute(query, (list(ids),))
                return {str(i): str(doc) for i, doc in cur.fetchall()}
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            self._drop()
            raise SinkUnavailable(self._why("lost the connection", exc)) from None

    # -- writing -----------------------------------------------------------------------

    def write(self, documents: Sequence[Document]) -> list[Refusal]:
        import psycopg

        unique = list({doc.id: doc for doc in documents}.values())
        if not unique:
            return []
        if self._conn is None or self._conn.closed:
            self.open()
        try:
            try:
                self._store(unique)
                return []
            except psycopg.DataError:
                pass  # some Document cannot be stored: find which, storing the others
            refused = []
            for doc in unique:
                try:
                    self._store([doc])
                except psycopg.DataError as exc:
                    refused.append(Refusal(doc.id, f"PostgreSQL refused it: "
                                                   f"{' '.join(str(exc).split())}"))
            return refused
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            self._drop()
            raise SinkUnavailable(self._why("lost the connection", exc)) from None

    def _store(self, documents: Sequence[Document]) -> None:
        from psycopg import sql

        schema = sql.Identifier(self.config.db_schema)
        rows = Rows()
        archived_at = datetime.now(UTC)
        for doc in documents:
            rows.add(doc, archived_at)
        ids = [doc.id for doc in documents]
        with self._conn.transaction(), self._conn.cursor() as cur:
            for table in ("entities", "quotes", "numbers"):
                cur.execute(sql.SQL("DELETE FROM {}.{} WHERE document_id = ANY(%s)")
                            .format(schema, sql.Identifier(table)), (ids,))
            cur.executemany(_upsert(schema), rows.documents)
            for table, columns, table_rows in (("entities", ENTITY_COLUMNS, rows.entities),
                                               ("quotes", QUOTE_COLUMNS, rows.quotes),
                                               ("numbers", NUMBER_COLUMNS, rows.numbers)):
                if not table_rows:
                    continue
                copy_sql = sql.SQL("COPY {}.{} ({}) FROM STDIN").format(
                    schema, sql.Identifier(table),
                    sql.SQL(", ").join(map(sql.Identifier, columns)))
                with cur.copy(copy_sql) as copy:
                    for row in table_rows:
                        copy.write_row(row)


def _upsert(schema: Any) -> Any:
    from psycopg import sql

    columns = [sql.Identifier(c) for c in DOCUMENT_COLUMNS]
    values = [sql.SQL("%s::jsonb") if c == "document" else sql.Placeholder()
              for c in DOCUMENT_COLUMNS]
    updates = [sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c))
               for c in DOCUMENT_COLUMNS if c != "id"]
    return sql.SQL("INSERT INTO {}.documents ({}) VALUES ({}) ON CONFLICT (id) DO UPDATE SET {}"
                   ).format(schema, sql.SQL(", ").join(columns), sql.SQL(", ").join(values),
                            sql.SQL(", ").join(updates))


@hookimpl
def register_sinks() -> list[type[Sink[Any]]]:
    return [PostgresSink]
