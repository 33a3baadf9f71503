"""The store's Lua scripts: every status change of an article is one of them, so the record,
the per-status indexes and the event appended to the stream change together or not at all
(``workers.queue.store`` runs them, sync or async; docs/queue.md explains the key schema).

Each script says which keys and arguments it takes. ``FINISH`` is the one write of a
finished article (``done`` or ``failed``), whichever path the worker took to it.
"""

from __future__ import annotations

from copydesk.workers.queue.window import ALLOW_OOM, DENY_OOM

_NOW = """
local _t = redis.call('TIME')
local now = tonumber(_t[1]) + tonumber(_t[2]) / 1000000
"""

_MOVE = """
local function move(id, to_key, score, from_keys)
  for _, k in ipairs(from_keys) do redis.call('ZREM', k, id) end
  redis.call('ZADD', to_key, score, id)
end
"""

# KEYS: record, events, idx_queued, idx_running, idx_done, idx_failed, queue
# ARGV: id, task_id, message, article_json, ttl, force, maxlen
SUBMIT = DENY_OOM + _NOW + _MOVE + """
local st = redis.call('HGET', KEYS[1], 'status')
if st and (st == 'queued' or st == 'running' or (st == 'done' and ARGV[6] ~= '1')) then
  return {0, st}
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'status', 'queued', 'task_id', ARGV[2], 'attempts', '0',
  'submitted_at', tostring(now), 'updated_at', tostring(now), 'article', ARGV[4],
  'completions', '0')
redis.call('EXPIRE', KEYS[1], ARGV[5])
move(ARGV[1], KEYS[3], now, {KEYS[4], KEYS[5], KEYS[6]})
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[7], '*', 'id', ARGV[1], 'status', 'queued',
  'at', tostring(now), 'task_id', ARGV[2])
redis.call('LPUSH', KEYS[7], ARGV[3])
return {1, 'queued'}
"""

# KEYS: record, events, idx_queued, idx_running, idx_done, idx_failed, dead
# ARGV: id, task_id, worker, owner, lease_seconds, max_attempts, article_json, ttl, maxlen,
#       stored_article (article_json as ``workers.queue.compact`` packs it)
CLAIM = DENY_OOM + _NOW + _MOVE + """
local rec = redis.call('HMGET', KEYS[1], 'status', 'task_id', 'attempts', 'lease_until',
  'error', 'segment')
local has_article = redis.call('HEXISTS', KEYS[1], 'article') == 1
local st, tid = rec[1], rec[2]
local attempts = tonumber(rec[3] or '0') or 0
local lease = now + tonumber(ARGV[5])
if st == 'done' then return {'skip', 'done'} end
if st == 'failed' then
  if tid == ARGV[2] then return {'skip', 'failed'} end
  attempts = 0
end
if st == 'running' and tonumber(rec[4] or '0') > now then
  return {'skip', 'running'}
end
if not st then
  redis.call('HSET', KEYS[1], 'submitted_at', tostring(now), 'completions', '0')
end
if attempts >= tonumber(ARGV[6]) then
  local where = ''
  if rec[6] and rec[6] ~= '' then where = ' in segment ' .. rec[6] end
  local reason = 'gave up after ' .. attempts .. ' attempts' .. where ..
    '; the last one ended with: ' ..
    (rec[5] or 'the worker processing it was lost (killed, out of memory or timed out)')
  redis.call('HSET', KEYS[1], 'status', 'failed', 'finished_at', tostring(now),
    'updated_at', tostring(now), 'error', reason, 'owner', '', 'lease_until', '0')
  redis.call('HINCRBY', KEYS[1], 'completions', 1)
  redis.call('EXPIRE', KEYS[1], ARGV[8])
  move(ARGV[1], KEYS[6], now, {KEYS[3], KEYS[4], KEYS[5]})
  local entry = cjson.encode({id = ARGV[1], reason = reason, attempts = attempts,
    task_id = ARGV[2], at = now, article = cjson.decode(ARGV[7])})
  redis.call('RPUSH', KEYS[7], entry)
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[9], '*', 'id', ARGV[1], 'status', 'failed',
    'at', tostring(now), 'task_id', ARGV[2], 'error', reason, 'dead_letter', '1')
  return {'dead', reason}
end
attempts = attempts + 1
redis.call('HSET', KEYS[1], 'status', 'running', 'task_id', ARGV[2],
  'attempts', tostring(attempts), 'started_at', tostring(now), 'updated_at', tostring(now),
  'worker', ARGV[3], 'owner', ARGV[4], 'lease_until', tostring(lease), 'stage', '')
if not has_article then redis.call('HSET', KEYS[1], 'article', ARGV[10]) end
redis.call('EXPIRE', KEYS[1], ARGV[8])
move(ARGV[1], KEYS[4], lease, {KEYS[3], KEYS[5], KEYS[6]})
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[9], '*', 'id', ARGV[1], 'status', 'running',
  'at', tostring(now), 'task_id', ARGV[2], 'worker', ARGV[3], 'attempt', tostring(attempts))
return {'run', tostring(attempts)}
"""

# A finished record is final: the first attempt to finish wins, and a later one (an attempt
# that lost its lease, or a redelivered message of an invalid article) writes nothing, so no
# article reaches done or failed twice; a resubmission or a reprocess is what changes it then.
# The partial Document (``workers.queue.partial``) goes in the same step: the finished one
# supersedes it.
# KEYS: record, events, idx_queued, idx_running, idx_done, idx_failed, outbox, partial
# ARGV: id, task_id, status, document, error, ttl, maxlen, worker, traceback, to the outbox
# ('1' with a sink configured: a finished Document is appended to the outbox stream in the
# same step, uncapped; workers.queue.outbox)
FINISH = DENY_OOM + _NOW + _MOVE + """
redis.call('DEL', KEYS[8])
local st = redis.call('HGET', KEYS[1], 'status')
if st == 'done' or st == 'failed' then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[3], 'finished_at', tostring(now),
  'updated_at', tostring(now), 'worker', ARGV[8], 'task_id', ARGV[2])
redis.call('HDEL', KEYS[1], 'owner', 'lease_until')  -- no lease once finished: two fields less
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'document', ARGV[4]) end
if ARGV[5] ~= '' then
  redis.call('HSET', KEYS[1], 'error', ARGV[5])
else
  redis.call('HDEL', KEYS[1], 'error')
end
if ARGV[9] ~= '' then
  redis.call('HSET', KEYS[1], 'traceback', ARGV[9])
else
  redis.call('HDEL', KEYS[1], 'traceback')
end
if ARGV[3] == 'done' then redis.call('HDEL', KEYS[1], 'article') end
redis.call('HINCRBY', KEYS[1], 'completions', 1)
redis.call('EXPIRE', KEYS[1], ARGV[6])
local target = KEYS[5]
if ARGV[3] == 'failed' then target = KEYS[6] end
move(ARGV[1], target, now, {KEYS[3], KEYS[4], KEYS[5], KEYS[6]})
local fields = {'id', ARGV[1], 'status', ARGV[3], 'at', tostring(now), 'task_id', ARGV[2],
  'worker', ARGV[8]}
if ARGV[5] ~= '' then table.insert(fields, 'error'); table.insert(fields, ARGV[5]) end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[7], '*', unpack(fields))
if ARGV[10] == '1' and ARGV[4] ~= '' then
  redis.call('XADD', KEYS[7], '*', 'id', ARGV[1], 'status', ARGV[3], 'at', tostring(now))
end
return 1
"""

# Replace a stored Document by its reprocessed version, unless the record moved on: a newer
# submission (another task id), another reprocess (another revision), or not finished.
# KEYS: record, events, idx_done, idx_failed, outbox
# ARGV: id, task_id, revision, document, status, worker, stages, ttl, maxlen, to the outbox
REPLACE = DENY_OOM + _NOW + _MOVE + """
local rec = redis.call('HMGET', KEYS[1], 'status', 'task_id', 'revision')
if (rec[1] ~= 'done' and rec[1] ~= 'failed') or rec[2] ~= ARGV[2] or
   (rec[3] or '0') ~= ARGV[3] then
  return 0
end
redis.call('HSET', KEYS[1], 'document', ARGV[4], 'status', ARGV[5], 'updated_at', tostring(now),
  'reprocessed_at', tostring(now), 'revision', tostring(tonumber(ARGV[3]) + 1))
redis.call('EXPIRE', KEYS[1], ARGV[8])
if rec[1] ~= ARGV[5] then
  local target = KEYS[3]
  if ARGV[5] == 'failed' then target = KEYS[4] end
  move(ARGV[1], target, now, {KEYS[3], KEYS[4]})
end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[9], '*', 'id', ARGV[1], 'status', ARGV[5],
  'at', tostring(now), 'task_id', ARGV[2], 'worker', ARGV[6], 'reprocessed', '1',
  'stages', ARGV[7], 'revision', tostring(tonumber(ARGV[3]) + 1))
if ARGV[10] == '1' then
  redis.call('XADD', KEYS[5], '*', 'id', ARGV[1], 'status', ARGV[5], 'at', tostring(now))
end
return 1
"""

# A running record back to queued after a lost attempt, with the reason and a retry event.
# KEYS: record, events, idx_queued, idx_running (the first four of both scripts below)
_BACK_TO_QUEUE = """
local function back_to_queue(id, task_id, reason, maxlen)
  redis.call('HSET', KEYS[1], 'status', 'queued', 'error', reason, 'owner', '',
    'lease_until', '0', 'updated_at', tostring(now))
  move(id, KEYS[3], now, {KEYS[4]})
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', maxlen, '*', 'id', id, 'status', 'queued',
    'at', tostring(now), 'task_id', task_id, 'error', reason, 'retry', '1')
end
"""

# The end of one routed segment: save the partial Document, put the record back to queued
# for the next segment (its attempts start again: each segment has its own retries) and push
# the next segment's message, all at once, only while this submission still holds it.
# KEYS: record, events, idx_queued, idx_running, partial, next queue
# ARGV: id, task_id, document, ttl, last stage, message, queue name, segment label, maxlen,
#       parse (base64 DocBin, or '' when the next segment does not read the parse)
HANDOFF = DENY_OOM + _NOW + _MOVE + """
local rec = redis.call('HMGET', KEYS[1], 'status', 'task_id')
if rec[1] ~= 'running' or rec[2] ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[5], 'task_id', ARGV[2], 'attempt', '0', 'document', ARGV[3],
  'stage', ARGV[5], 'saved_at', tostring(now))
if ARGV[10] ~= '' then
  redis.call('HSET', KEYS[5], 'parse', ARGV[10])
else
  redis.call('HDEL', KEYS[5], 'parse')
end
redis.call('EXPIRE', KEYS[5], ARGV[4])
redis.call('HSET', KEYS[1], 'status', 'queued', 'attempts', '0', 'owner', '',
  'lease_until', '0', 'updated_at', tostring(now), 'queue', ARGV[7], 'segment', ARGV[8],
  'stage', '')
redis.call('HDEL', KEYS[1], 'error')
move(ARGV[1], KEYS[3], now, {KEYS[4]})
redis.call('LPUSH', KEYS[6], ARGV[6])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[9], '*', 'id', ARGV[1], 'status', 'queued',
  'at', tostring(now), 'task_id', ARGV[2], 'queue', ARGV[7], 'segment', ARGV[8])
return 1
"""

# KEYS: record, events, idx_queued, idx_running
# ARGV: id, task_id, reason, maxlen
RELEASE = ALLOW_OOM + _NOW + _MOVE + _BACK_TO_QUEUE + """
local rec = redis.call('HMGET', KEYS[1], 'status', 'task_id')
if rec[1] ~= 'running' or rec[2] ~= ARGV[2] then return 0 end
back_to_queue(ARGV[1], ARGV[2], ARGV[3], ARGV[4])
return 1
"""

# KEYS: idx_running, record1, record2, ...   ARGV: lease_seconds, id1, task1, id2, task2, ...
RENEW = ALLOW_OOM + _NOW + """
local lease = now + tonumber(ARGV[1])
local renewed = 0
for i = 2, #KEYS do
  local id, tid = ARGV[2 * (i - 1)], ARGV[2 * (i - 1) + 1]
  local rec = redis.call('HMGET', KEYS[i], 'status', 'task_id')
  if rec[1] == 'running' and rec[2] == tid then
    redis.call('HSET', KEYS[i], 'lease_until', tostring(lease))
    redis.call('ZADD', KEYS[1], 'XX', lease, id)
    renewed = renewed + 1
  end
end
return renewed
"""

# KEYS: record, events, idx_queued, idx_running, queue
# ARGV: id, expected_lease_until, message, reason, maxlen
REQUEUE_ORPHAN = ALLOW_OOM + _NOW + _MOVE + _BACK_TO_QUEUE + """
local rec = redis.call('HMGET', KEYS[1], 'status', 'lease_until', 'task_id')
if rec[1] ~= 'running' or rec[2] ~= ARGV[2] then return 0 end
back_to_queue(ARGV[1], rec[3] or '', ARGV[4], ARGV[5])
redis.call('RPUSH', KEYS[5], ARGV[3])
return 1
"""

# KEYS: record, idx_queued, queue   ARGV: id, task_id, updated_at, message
REQUEUE_LOST = ALLOW_OOM + _NOW + """
local rec = redis.call('HMGET', KEYS[1], 'status', 'task_id', 'updated_at')
if rec[1] ~= 'queued' or rec[2] ~= ARGV[2] or rec[3] ~= ARGV[3] then return 0 end
redis.call('HSET', KEYS[1], 'updated_at', tostring(now))
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('RPUSH', KEYS[3], ARGV[4])
return 1
"""


# A message rejected at intake: kept (capped), counted, and recorded under its article id
# unless that article is done or running (a valid message of it is being handled).
# KEYS: rejected, rejected_metrics, record, events, idx_queued, idx_running, idx_done,
#       idx_failed  (the record keys are absent when no article id could be read)
# ARGV: entry, code, maxlen, id, task_id, error, ttl, stream_maxlen, worker
REJECT = DENY_OOM + _NOW + _MOVE + """
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[3]) - 1)
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
if #KEYS < 3 then return 0 end
local st = redis.call('HGET', KEYS[3], 'status')
if st == 'done' or st == 'running' then return 0 end
if not st then redis.call('HSET', KEYS[3], 'submitted_at', tostring(now), 'attempts', '0') end
redis.call('HSET', KEYS[3], 'status', 'failed', 'task_id', ARGV[5], 'error', ARGV[6],
  'finished_at', tostring(now), 'updated_at', tostring(now), 'worker', ARGV[9],
  'owner', '', 'lease_until', '0')
redis.call('HINCRBY', KEYS[3], 'completions', 1)
redis.call('EXPIRE', KEYS[3], ARGV[7])
move(ARGV[4], KEYS[8], now, {KEYS[5], KEYS[6], KEYS[7]})
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[8], '*', 'id', ARGV[4], 'status', 'failed',
  'at', tostring(now), 'task_id', ARGV[5], 'worker', ARGV[9], 'error', ARGV[6],
  'rejected', '1')
return 1
"""
