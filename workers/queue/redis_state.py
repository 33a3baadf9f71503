"""The Redis backend of the shared state (``copydesk.state``): what workers give stages.

Every call is one Lua script, so each update is atomic however many workers write at once
(no read-modify-write from Python). Keys, with ``P`` the key prefix and ``S`` the space
(the braces keep a space in one Redis Cluster slot):

| key | type | what |
|---|---|---|
| ``P:state:{S}:s:{key}`` | sorted set | a keyed set: member -> article time of its latest add |
| ``P:state:{S}:c:{key}`` | string | a counter (``INCRBYFLOAT``) |
| ``P:state:{S}:m:{key}`` | hash | a map |
| ``P:state:{S}:v:{key}`` | string | a value |
| ``P:state:{S}:f:{key}`` | sorted set | the earliest claimant (one member, score = its time) |
| ``P:state:{S}:k:{key}`` | sorted set | every claimant of ``claim`` (score: first claim) |
| ``P:state:{S}:p:{gen}:{shard}`` | hash | postings of a generation: key -> entries |
| ``P:state:{S}:_gens`` | hash | per live generation: shard count; ``n{gen}``: entries |
| ``P:state:{S}:_expiry`` | sorted set | each data key -> article time of its latest write |
| ``P:state:{S}:_mark`` | string | the space's watermark: the latest article time written |

Postings are sharded so each hash stays small enough for Redis's compact listpack encoding
(at most 128 fields by default): a generation's shard count is fixed by its first write, one
shard per ``PER_SHARD`` entries of the newest earlier generation (``FIRST_SHARDS`` for the
first); a key's shard is its
CRC-32 (given by the caller) modulo that count. The shard keys are named inside the scripts
(all under the space's hash tag, so in its Cluster slot).

Expiry: each call first moves the watermark and deletes (at most ``SWEEP`` per call) the
keys whose latest write is older than ``watermark - window``; writes to a keyed set also
drop its members older than that.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import redis
from copydesk.state import GENERATIONS, Claim, StateBackend
from copydesk.workers.queue.connection import eval_in_pipeline

#: Expired keys deleted per call at most, so one call never blocks Redis for long.
SWEEP = 500
#: Postings entries per shard hash a generation is sized for (listpack stays under 128).
PER_SHARD = 64
#: Shards of a space's first generation (nothing earlier to size it by).
FIRST_SHARDS = 64

_PRELUDE = """
local expiry, markkey = KEYS[1], KEYS[2]
local atstr = ARGV[1]
local at, window = tonumber(atstr), tonumber(ARGV[2])
local function fmt(x) return string.format('%.17g', x) end
local mark = tonumber(redis.call('GET', markkey) or '')
if at ~= nil and (mark == nil or at > mark) then
  redis.call('SET', markkey, atstr); mark = at
end
local cutoff = -math.huge
if mark ~= nil then
  cutoff = mark - window
  local old = redis.call('ZRANGEBYSCORE', expiry, '-inf', '(' .. fmt(cutoff), 'LIMIT', 0, SWEEP)
  if #old > 0 then
    redis.call('DEL', unpack(old))
    redis.call('ZREM', expiry, unpack(old))
  end
end
-- scores are passed as the strings they came as: Lua would print a number with 14 digits
local function stamp(key) redis.call('ZADD', expiry, 'GT', atstr, key) end
""".replace("SWEEP", str(SWEEP))

#: KEYS: expiry, mark, then the sets; ARGV: at, window, then per set a count and its members
_ADD = _PRELUDE + """
local i = 3
for k = 3, #KEYS do
  local n = tonumber(ARGV[i]); i = i + 1
  local args = {}
  for j = 1, n do args[#args + 1] = atstr; args[#args + 1] = ARGV[i]; i = i + 1 end
  if n > 0 then redis.call('ZADD', KEYS[k], 'GT', unpack(args)) end
  redis.call('ZREMRANGEBYSCORE', KEYS[k], '-inf', '(' .. fmt(cutoff))
  stamp(KEYS[k])
end
return 1
"""

#: ARGV: the reader's time ("" for none), window
_MEMBERS = _PRELUDE + """
local out = {}
for k = 3, #KEYS do
  out[#out + 1] = redis.call('ZRANGEBYSCORE', KEYS[k], fmt(cutoff), '+inf')
end
return out
"""

_REMOVE = _PRELUDE + """
local i = 3
for k = 3, #KEYS do
  local n = tonumber(ARGV[i]); i = i + 1
  local members = {}
  for j = 1, n do members[#members + 1] = ARGV[i]; i = i + 1 end
  if n > 0 then redis.call('ZREM', KEYS[k], unpack(members)) end
  if redis.call('EXISTS', KEYS[k]) == 0 then redis.call('ZREM', expiry, KEYS[k]) end
end
return 1
"""

#: ARGV: at, window, then one amount per counter key
_INCR = _PRELUDE + """
local out = {}
for k = 3, #KEYS do
  out[#out + 1] = redis.call('INCRBYFLOAT', KEYS[k], ARGV[k])
  stamp(KEYS[k])
end
return out
"""

_COUNTS = _PRELUDE + """
local out = {}
for k = 3, #KEYS do out[#out + 1] = redis.call('GET', KEYS[k]) or '0' end
return out
"""

#: KEYS: expiry, mark, map; ARGV: at, window, then groups "set", "incr", "least",
#: "greatest", each as a count followed by field/value pairs
_UPDATE = _PRELUDE + """
local key, i = KEYS[3], 3
local function group()
  local n = tonumber(ARGV[i]); i = i + 1
  local pairs_ = {}
  for j = 1, n do pairs_[#pairs_ + 1] = {ARGV[i], ARGV[i + 1]}; i = i + 2 end
  return pairs_
end
for _, p in ipairs(group()) do redis.call('HSET', key, p[1], p[2]) end
for _, p in ipairs(group()) do redis.call('HINCRBYFLOAT', key, p[1], p[2]) end
for _, p in ipairs(group()) do
  local old = tonumber(redis.call('HGET', key, p[1]) or '')
  if old == nil or tonumber(p[2]) < old then redis.call('HSET', key, p[1], p[2]) end
end
for _, p in ipairs(group()) do
  local old = tonumber(redis.call('HGET', key, p[1]) or '')
  if old == nil or tonumber(p[2]) > old then redis.call('HSET', key, p[1], p[2]) end
end
stamp(key)
return redis.call('HGETALL', key)
"""

_READ = _PRELUDE + """
local out = {}
for k = 3, #KEYS do out[#out + 1] = redis.call('HGETALL', KEYS[k]) end
return out
"""

_PUT = _PRELUDE + """
for k = 3, #KEYS do
  redis.call('SET', KEYS[k], ARGV[k])
  stamp(KEYS[k])
end
return 1
"""

_GET = _PRELUDE + """
local out = {}
for k = 3, #KEYS do out[#out + 1] = redis.call('GET', KEYS[k]) or false end
return out
"""

#: KEYS: expiry, mark, claim set; ARGV: at, window, member
_FIRST = _PRELUDE + """
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. fmt(cutoff))  -- a claim past the window
redis.call('ZADD', KEYS[3], atstr, ARGV[3])
redis.call('ZREMRANGEBYRANK', KEYS[3], 1, -1)
stamp(KEYS[3])
return redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
"""

#: KEYS: expiry, mark, claim set; ARGV: at, window, member. Returns the earliest claimant,
#: its time, then the overtaken members (when this claim just became the earliest)
_CLAIM = _PRELUDE + """
local key, member = KEYS[3], ARGV[3]
redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. fmt(cutoff))
local before = redis.call('ZRANGE', key, 0, 0)[1]
redis.call('ZADD', key, 'NX', atstr, member)
stamp(key)
local best = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
local out = {best[1], best[2]}
if best[1] == member and before ~= nil and before ~= member then
  for _, m in ipairs(redis.call('ZRANGE', key, 1, -1)) do out[#out + 1] = m end
end
return out
"""

_GENERATIONS = """
local gens, span, base = KEYS[3], window / GENERATIONS, ARGV[3]
local function live()  -- the live generations, oldest first, with their shard counts
  local out = {}
  local flat = redis.call('HGETALL', gens)
  for j = 1, #flat, 2 do
    local g = tonumber(flat[j])
    if g ~= nil then
      if (g + 1) * span > cutoff then out[#out + 1] = {g, tonumber(flat[j + 1])}
      else redis.call('HDEL', gens, flat[j], 'n' .. flat[j]) end
    end
  end
  table.sort(out, function(a, b) return a[1] < b[1] end)
  return out
end
""".replace("GENERATIONS", str(GENERATIONS))

#: KEYS: expiry, mark, gens; ARGV: at, window, shard key base, then key, crc, entry triples
_POST = _PRELUDE + _GENERATIONS + """
local gen = math.floor(at / span)
if (gen + 1) * span <= cutoff then return 0 end
local g = string.format('%d', gen)
local shards = tonumber(redis.call('HGET', gens, g) or '')
if shards == nil then
  local prev = nil
  for _, row in ipairs(live()) do if row[1] < gen then prev = row[1] end end
  local n = FIRST_SHARDS * PER_SHARD  -- no earlier generation: sized for a modest stream
  if prev ~= nil then
    n = tonumber(redis.call('HGET', gens, 'n' .. string.format('%d', prev)) or '0')
  end
  shards = math.max(1, math.ceil(n / PER_SHARD))
  redis.call('HSET', gens, g, shards)
end
local added = 0
for i = 4, #ARGV, 3 do
  local name = base .. g .. ':' .. string.format('%d', tonumber(ARGV[i + 1]) % shards)
  local old = redis.call('HGET', name, ARGV[i])
  if not old then
    redis.call('HSET', name, ARGV[i], ARGV[i + 2]); added = added + 1
  elseif not string.find(' ' .. old .. ' ', ' ' .. ARGV[i + 2] .. ' ', 1, true) then
    redis.call('HSET', name, ARGV[i], old .. ' ' .. ARGV[i + 2]); added = added + 1
  end
  stamp(name)
end
redis.call('HINCRBY', gens, 'n' .. g, added)
stamp(gens)
return added
""".replace("PER_SHARD", str(PER_SHARD)).replace("FIRST_SHARDS", str(FIRST_SHARDS))

#: KEYS: expiry, mark, gens; ARGV: the reader's time ("" for none), window, shard key base,
#: then key, crc pairs. Returns per key its entries, space-separated ("" for none)
_POSTINGS = _PRELUDE + _GENERATIONS + """
local out = {}
local gensnow = live()
for i = 4, #ARGV, 2 do
  local parts = {}
  for _, row in ipairs(gensnow) do
    local name = base .. string.format('%d', row[1]) .. ':' ..
      string.format('%d', tonumber(ARGV[i + 1]) % row[2])
    local v = redis.call('HGET', name, ARGV[i])
    if v then parts[#parts + 1] = v end
  end
  out[#out + 1] = table.concat(parts, ' ')
end
return out
"""

_KINDS = ("s", "c", "m", "v", "f", "k")
_NO_WRITE = ""


class RedisState(StateBackend):
    """Shared state in Redis, for every worker of a deployment (``P:state:*`` keys).

    Writes that answer nothing (``add``, ``remove``, ``put``, ``post``, ``change``,
    ``delete``) wait in this process and go with its next call that answers, or with
    ``flush``, in one round trip (a pipeline, each script still atomic), in the order they
    were made: this process reads what it wrote, and the pipeline flushes after each
    cross-article stage, so other workers see a stage's writes once it has run."""

    def __init__(self, client: redis.Redis, prefix: str = "copydesk") -> None:
        self.client = client
        self.prefix = prefix
        #: writes not sent yet, each a call on a pipeline
        self._waiting: list[Callable[[Any], Any]] = []
        self._scripts = {name: client.register_script(body) for name, body in (
            ("add", _ADD), ("members", _MEMBERS), ("remove", _REMOVE), ("incr", _INCR),
            ("counts", _COUNTS), ("update", _UPDATE), ("read", _READ), ("put", _PUT),
            ("get", _GET), ("first", _FIRST), ("claim", _CLAIM), ("post", _POST),
            ("postings", _POSTINGS))}

    # -- keys -----------------------------------------------------------------------------
    def _base(self, space: str) -> str:
        return f"{self.prefix}:state:{{{space}}}:"

    def _key(self, space: str, kind: str, key: str) -> str:
        return f"{self._base(space)}{kind}:{key}"

    def _call(self, name: str, keys: list[str], args: list[Any], later: bool = False) -> Any:
        """Run script ``name``: now, after what waits (one round trip), or ``later``. In a
        pipeline it goes by its body (``connection.eval_in_pipeline``), so none is missing
        halfway through one, where it could not be run again in order."""
        script = self._scripts[name]

        def call(pipe: Any) -> Any:
            return eval_in_pipeline(pipe, script, keys, args)
        if later:
            self._waiting.append(call)
            return None
        if not self._waiting:
            return script(keys=keys, args=args)
        return self._send(call)[-1]

    def flush(self) -> None:
        if self._waiting:
            self._send()

    def _send(self, *calls: Callable[[Any], Any]) -> list[Any]:
        """What waits, then ``calls``, in one pipelined round trip; their answers."""
        waiting, self._waiting = self._waiting, []
        with self.client.pipeline(transaction=False) as pipe:
            for call in (*waiting, *calls):
                call(pipe)
            answers: list[Any] = pipe.execute()
            return answers

    def _run(self, name: str, space: str, kind: str, keys: Sequence[str], at: float | str,
             window: float, *args: Any, later: bool = False) -> Any:
        return self._call(name, *self._operands(space, kind, keys, at, window, *args), later)

    def _operands(self, space: str, kind: str, keys: Sequence[str], at: float | str,
                  window: float, *args: Any) -> tuple[list[str], list[Any]]:
        """A data script's KEYS (the space's expiry index and watermark, then ``keys`` of
        ``kind``) and ARGV (the time, the window, then ``args``)."""
        base = self._base(space)
        return ([base + "_expiry", base + "_mark", *(self._key(space, kind, k) for k in keys)],
                [repr(at) if isinstance(at, float) else at, repr(window), *args])

    # -- the operations -------------------------------------------------------------------
    def add(self, space: str, window: float, members: Mapping[str, Sequence[str]],
            at: float) -> None:
        args: list[Any] = []
        for items in members.values():
            args += [len(items), *items]
        self._run("add", space, "s", list(members), at, window, *args, later=True)

    def members(self, space: str, window: float, keys: Sequence[str],
                at: float | None) -> dict[str, list[str]]:
        found = self._run("members", space, "s", keys, _at(at), window)
        return {k: [_text(m) for m in v] for k, v in zip(keys, found, strict=True) if v}

    def remove(self, space: str, window: float, members: Mapping[str, Sequence[str]],
               at: float) -> None:
        args: list[Any] = []
        for items in members.values():
            args += [len(items), *items]
        self._run("remove", space, "s", list(members), _NO_WRITE, window, *args, later=True)

    def incr(self, space: str, window: float, amounts: Mapping[str, float],
             at: float) -> dict[str, float]:
        keys = list(amounts)
        values = self._run("incr", space, "c", keys, at, window,
                           *(repr(float(amounts[k])) for k in keys))
        return {k: float(v) for k, v in zip(keys, values, strict=True)}

    def counts(self, space: str, window: float, keys: Sequence[str],
               at: float | None) -> dict[str, float]:
        values = self._run("counts", space, "c", keys, _at(at), window)
        return {k: float(v) for k, v in zip(keys, values, strict=True)}

    def update(self, space: str, window: float, key: str, at: float,
               set_: Mapping[str, str], incr: Mapping[str, float],
               least: Mapping[str, float], greatest: Mapping[str, float]) -> dict[str, str]:
        args = _update_args(set_, incr, least, greatest)
        return _pairs(self._run("update", space, "m", [key], at, window, *args))

    def change(self, space: str, window: float, key: str, at: float,
               set_: Mapping[str, str], incr: Mapping[str, float],
               least: Mapping[str, float], greatest: Mapping[str, float]) -> None:
        args = _update_args(set_, incr, least, greatest)
        self._run("update", space, "m", [key], at, window, *args, later=True)

    def read(self, space: str, window: float, keys: Sequence[str],
             at: float | None) -> dict[str, dict[str, str]]:
        found = self._run("read", space, "m", keys, _at(at), window)
        return {k: _pairs(v) for k, v in zip(keys, found, strict=True) if v}

    def put(self, space: str, window: float, values: Mapping[str, str], at: float) -> None:
        keys = list(values)
        self._run("put", space, "v", keys, at, window, *(values[k] for k in keys), later=True)

    def get(self, space: str, window: float, keys: Sequence[str],
            at: float | None) -> dict[str, str]:
        found = self._run("get", space, "v", keys, _at(at), window)
        return {k: _text(v) for k, v in zip(keys, found, strict=True) if v is not None}

    def first(self, space: str, window: float, key: str, member: str,
              at: float) -> tuple[str, float]:
        best = self._run("first", space, "f", [key], at, window, member)
        return _text(best[0]), float(best[1])

    def claim(self, space: str, window: float, key: str, member: str, at: float) -> Claim:
        return _claim(self._run("claim", space, "k", [key], at, window, member))

    def claim_many(self, space: str, window: float,
                   claims: Sequence[tuple[str, str, float]]) -> list[Claim]:
        """Every claim in one pipelined round trip (with what waits), in order."""
        script = self._scripts["claim"]

        def call(key: str, member: str, at: float) -> Callable[[Any], Any]:
            keys, args = self._operands(space, "k", [key], at, window, member)
            return lambda pipe: eval_in_pipeline(pipe, script, keys, args)
        answers = self._send(*(call(*c) for c in claims))
        return [_claim(found) for found in answers[len(answers) - len(claims):]]

    def _gens(self, space: str, name: str, at: float | str, window: float,
              *args: Any, later: bool = False) -> Any:
        base = self._base(space)
        return self._call(
            name, [base + "_expiry", base + "_mark", base + "_gens"],
            [repr(at) if isinstance(at, float) else at, repr(window), base + "p:", *args], later)

    def post(self, space: str, window: float, entries: Mapping[str, str], at: float) -> None:
        args: list[Any] = []
        for key, entry in entries.items():
            args += [key, _crc(key), entry]
        self._gens(space, "post", at, window, *args, later=True)

    def postings(self, space: str, window: float, keys: Sequence[str],
                 at: float | None) -> dict[str, list[str]]:
        args: list[Any] = []
        for key in keys:
            args += [key, _crc(key)]
        found = self._gens(space, "postings", _at(at), window, *args)
        out = {}
        for key, joined in zip(keys, found, strict=True):
            entries = list(dict.fromkeys(_text(joined).split()))
            if entries:
                out[key] = entries
        return out

    def delete(self, space: str, keys: Sequence[str]) -> None:
        names = [self._key(space, kind, k) for k in keys for kind in _KINDS]
        expiry = self._base(space) + "_expiry"

        def delete(pipe: Any) -> None:
            pipe.delete(*names)
            pipe.zrem(expiry, *names)
        self._waiting.append(delete)

    def watermark(self, space: str) -> float | None:
        self.flush()
        value = self.client.get(self._base(space) + "_mark")
        return None if value is None else float(value)

    def size(self, space: str) -> int:
        self.flush()
        return int(self.client.zcard(self._base(space) + "_expiry"))

    def memory(self, space: str) -> int:
        """Bytes Redis uses for the space's keys (``MEMORY USAGE`` summed; for benchmarks)."""
        self.flush()
        total = 0
        base = self._base(space)
        for name in self.client.scan_iter(match=base.replace("{", "\\{").replace("}", "\\}")
                                          + "*", count=1000):
            total += int(self.client.memory_usage(name, samples=0) or 0)
        return total


def _claim(found: Sequence[Any]) -> Claim:
    """A claim script's answer: the earliest claimant, its time, then whom it overtook."""
    items = [_text(v) for v in found]
    return Claim(items[0], float(items[1]), tuple(items[2:]))


def _at(at: float | None) -> float | str:
    """A read's time: moves the watermark when given, else ``""`` (leave it)."""
    return _NO_WRITE if at is None else float(at)


def _crc(key: str) -> int:
    """A postings key's shard hash (CRC-32 of its UTF-8 bytes)."""
    return zlib.crc32(key.encode("utf-8", "surrogatepass"))


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _update_args(set_: Mapping[str, str], incr: Mapping[str, float],
                 least: Mapping[str, float], greatest: Mapping[str, float]) -> list[Any]:
    """The update script's arguments: each field group as a count, then field, value."""
    args: list[Any] = []
    for group in (set_, {f: repr(v) for f, v in incr.items()},
                  {f: _num(v) for f, v in least.items()},
                  {f: _num(v) for f, v in greatest.items()}):
        args.append(len(group))
        for field, value in group.items():
            args += [field, value]
    return args


def _pairs(flat: Sequence[Any]) -> dict[str, str]:
    items = [_text(v) for v in flat]
    return dict(zip(items[::2], items[1::2], strict=True))


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 2**53 else repr(value)
