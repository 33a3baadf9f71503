"""Partial Documents between stages: what a worker saves so that the next attempt resumes.

A worker running an article saves the Document after each stage once the article has run
longer than ``worker.partial_after`` seconds (``P:partial:{id}``, a hash with the task id
and attempt that wrote it). When the article comes back (its worker was killed, its
message re-delivered), the next attempt loads it and runs only the stages the partial
Document has no current run of (``workers.worker.lifecycle``). A partial Document belongs to
one submission (task id): a newer submission of the same id never resumes from an older
one's, and a partial is only written while that submission holds the article (status
``running``).
"""

from __future__ import annotations

from dataclasses import dataclass

from copydesk.document import Document

# KEYS: record, partial
# ARGV: task_id, attempt, document, ttl, stage
SAVE_PARTIAL = """
local rec = redis.call('HMGET', KEYS[1], 'status', 'task_id')
if rec[1] ~= 'running' or rec[2] ~= ARGV[1] then return 0 end
local t = redis.call('TIME')
redis.call('HSET', KEYS[2], 'task_id', ARGV[1], 'attempt', ARGV[2], 'document', ARGV[3],
  'stage', ARGV[5], 'saved_at', tostring(tonumber(t[1]) + tonumber(t[2]) / 1000000))
redis.call('EXPIRE', KEYS[2], ARGV[4])
return 1
"""


@dataclass(frozen=True)
class PartialDocument:
    """A Document saved between stages, and which attempt of which submission saved it."""

    article_id: str
    task_id: str
    attempt: int
    stage: str
    saved_at: float
    document_json: str
    #: the spaCy parse as a DocBin, carried to a routed segment that reads it
    parse: bytes | None = None

    def document(self) -> Document:
        return Document.model_validate_json(self.document_json)
