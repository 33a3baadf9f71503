"""Compact storage codec: zstd frames marked by zstd's magic number, plain JSON still read."""

from __future__ import annotations

import json

import zstandard
from copydesk.workers.queue.compact import ZSTD_MAGIC, is_packed, pack, unpack

DOC = json.dumps({"id": "a-1", "text": "Ministers met in Istanbul. " * 40, "entities": []})


def test_packed_document_is_a_zstd_frame_any_zstd_reader_decodes() -> None:
    stored = pack(DOC)
    assert stored[:4] == ZSTD_MAGIC and is_packed(stored)
    assert zstandard.decompress(stored).decode("utf-8") == DOC


def test_packed_document_is_smaller_than_its_json() -> None:
    assert len(pack(DOC)) < len(DOC.encode()) / 4


def test_unpack_reads_back_what_pack_wrote() -> None:
    assert unpack(pack(DOC)) == DOC


def test_plain_json_written_before_compression_still_reads() -> None:
    assert unpack(DOC.encode("utf-8")) == DOC


def test_a_value_compression_would_not_shrink_is_stored_plain() -> None:
    tiny = '{"id":"x"}'
    assert pack(tiny) == tiny.encode() and not is_packed(pack(tiny))


def test_compression_none_stores_plain_utf8() -> None:
    text = '{"text":"Zürich ' + "x" * 500 + '"}'
    assert pack(text, "none") == text.encode("utf-8")


def test_unpack_keeps_none_and_text() -> None:
    assert unpack(None) is None and unpack(DOC) == DOC
