"""The ``parquet`` sink: finished Documents as a directory of Parquet files (pyarrow).

``[sinks.parquet] path = "DIR"``. Four tables, each a folder of Hive-style partitions by
publication date, read as they are by DuckDB (``read_parquet('DIR/documents/**/*.parquet',
hive_partitioning = true)``), pandas (``pandas.read_parquet('DIR/documents')``), pyarrow
and Spark::

    DIR/documents/published_date=2005-03-01/part-<batch>.parquet
    DIR/entities/published_date=2005-03-01/part-<batch>.parquet
    DIR/quotes/…  DIR/numbers/…

A Document without a publication date goes to ``published_date=__HIVE_DEFAULT_PARTITION__``
(the Hive name for null). Each batch adds new files, written under a hidden name and
renamed into place, so a reader never sees half a file. Files are appended, not
rewritten: a Document written twice (a re-run, a redelivery after a crash) has two rows,
and a reader keeps the one with the latest ``archived_at`` per ``id``.
"""

from __future__ import annotations

import os
import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

from copydesk.document import Document
from copydesk.hookspecs import hookimpl
from copydesk.plugins.sinks.rows import (
    DOCUMENT_COLUMNS,
    ENTITY_COLUMNS,
    NUMBER_COLUMNS,
    QUOTE_COLUMNS,
    Rows,
)
from copydesk.sinks import Refusal, Sink, SinkConfig, SinkUnavailable
from pydantic import Field

NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
PARTITION = "published_date"


class ParquetConfig(SinkConfig):
    path: Path = Field(description="Directory of the Parquet tables (created when missing).")
    compression: Literal["zstd", "snappy", "gzip", "none"] = Field(
        default="zstd", description="Parquet compression codec.")
    batch_size: int = Field(default=1000, ge=1, le=100_000,
                            description="Most Documents per written file set.")


def _schemas() -> dict[str, Any]:
    import pyarrow as pa

    span = [("start", pa.int32()), ("end", pa.int32())]
    return {
        "documents": pa.schema([
            ("id", pa.string()), ("source", pa.string()), ("url", pa.string()),
            ("published_at", pa.timestamp("us", tz="UTC")), ("language", pa.string()),
            ("title", pa.string()), ("text", pa.string()), ("fingerprint", pa.string()),
            ("archived_at", pa.timestamp("us", tz="UTC")), ("story_id", pa.string()),
            ("duplicate_of", pa.string()), ("document", pa.string()),
        ]),
        "entities": pa.schema([("document_id", pa.string()), *span, ("label", pa.string()),
                               ("canonical", pa.string()), ("text", pa.string())]),
        "quotes": pa.schema([("document_id", pa.string()), *span, ("kind", pa.string()),
                             ("speaker", pa.string()), ("cue", pa.string()),
                             ("text", pa.string())]),
        "numbers": pa.schema([("document_id", pa.string()), *span, ("kind", pa.string()),
                              ("value", pa.string()), ("unit", pa.string()),
                              ("qualifier", pa.string()), ("text", pa.string())]),
    }


COLUMNS = {"documents": DOCUMENT_COLUMNS, "entities": ENTITY_COLUMNS,
           "quotes": QUOTE_COLUMNS, "numbers": NUMBER_COLUMNS}


def partition_of(published_at: datetime | None) -> str:
    """The partition folder name of a Document published at ``published_at`` (UTC day)."""
    if published_at is None:
        return f"{PARTITION}={NULL_PARTITION}"
    day: date = (published_at.astimezone(UTC) if published_at.tzinfo else published_at).date()
    return f"{PARTITION}={day.isoformat()}"


class ParquetSink(Sink[ParquetConfig]):
    """Documents, entities, quotes and numbers as Parquet tables partitioned by date."""

    name = "parquet"
    description = "Parquet tables documents, entities, quotes, numbers by publication date"

    def open(self) -> None:
        root = self.config.path
        try:
            root.mkdir(parents=True, exist_ok=True)
            probe = root / f".probe-{uuid.uuid4().hex}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise SinkUnavailable(f"cannot write Parquet files under {root} (setting "
                                  f"{self.setting('path')}): {exc.strerror or exc}") from None

    def write(self, documents: Sequence[Document]) -> list[Refusal]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not documents:
            return []
        schemas = _schemas()
        archived_at = datetime.now(UTC)
        per_partition: dict[str, Rows] = defaultdict(Rows)
        for doc in documents:
            per_partition[partition_of(doc.published_at)].add(doc, archived_at)
        batch = f"{archived_at:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}"
        compression = None if self.config.compression == "none" else self.config.compression
        written: list[tuple[Path, Path]] = []
        try:
            for partition, rows in per_partition.items():
                for table, schema in schemas.items():
                    table_rows = getattr(rows, table)
                    if not table_rows:
                        continue
                    columns = list(zip(*table_rows, strict=True))
                    arrays = [pa.array(_utc(col, schema.field(i).type), schema.field(i).type)
                              for i, col in enumerate(columns)]
                    folder = self.config.path / table / partition
                    folder.mkdir(parents=True, exist_ok=True)
                    final = folder / f"part-{batch}.parquet"
                    hidden = folder / f".part-{batch}.parquet.tmp"
                    pq.write_table(pa.Table.from_arrays(arrays, schema=schema), hidden,
                                   compression=compression)
                    written.append((hidden, final))
            for hidden, final in written:
                os.replace(hidden, final)
        except OSError as exc:
            for hidden, _ in written:
                hidden.unlink(missing_ok=True)
            raise SinkUnavailable(f"cannot write Parquet files under {self.config.path} "
                                  f"(setting {self.setting('path')}): "
                                  f"{exc.strerror or exc}") from None
        return []


def _utc(values: Sequence[Any], kind: Any) -> list[Any]:
    """Timestamps as aware UTC datetimes (a naive one is taken as UTC)."""
    import pyarrow as pa

    if not pa.types.is_timestamp(kind):
        return list(values)
    return [v.replace(tzinfo=UTC) if isinstance(v, datetime) and v.tzinfo is None else v
            for v in values]


@hookimpl
def register_sinks() -> list[type[Sink[Any]]]:
    return [ParquetSink]
