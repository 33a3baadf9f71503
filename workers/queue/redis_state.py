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
| ``P:state:{S}:_expiry`` | sorted set | each data key -> article time of its latest write |
| ``P:state:{S}:_mark`` | string | the space's watermark: the latest article time written |

Expiry: each call first moves the watermark and deletes (at most ``SWEEP`` per call) the
keys whose latest write is older than ``watermark - window``; writes to a keyed set also
drop its members older than that.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import redis
from copydesk.state import StateBackend

#: Expired keys deleted per call at most, so one call never blocks Redis for long.
SWEEP = 500

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

_KINDS = ("s", "c", "m", "v", "f")
_NO_WRITE = ""


class RedisState(StateBackend):
    """Shared state in Redis, for every worker of a deployment (``P:state:*`` keys)."""

    def __init__(self, client: redis.Redis, prefix: str = "copydesk") -> None:
        self.client = client
        self.prefix = prefix
        self._scripts = {name: client.register_script(body) for name, body in (
            ("add", _ADD), ("members", _MEMBERS), ("remove", _REMOVE), ("incr", _INCR),
            ("counts", _COUNTS), ("update", _UPDATE), ("read", _READ), ("put", _PUT),
            ("get", _GET), ("first", _FIRST))}

    # -- keys -----------------------------------------------------------------------------
    def _base(self, space: str) -> str:
        return f"{self.prefix}:state:{{{space}}}:"

    def _key(self, space: str, kind: str, key: str) -> str:
        return f"{self._base(space)}{kind}:{key}"

    def _run(self, name: str, space: str, kind: str, keys: Sequence[str], at: float | str,
             window: float, *args: Any) -> Any:
        base = self._base(space)
        return self._scripts[name](
            keys=[base + "_expiry", base + "_mark", *(self._key(space, kind, k) for k in keys)],
            args=[repr(at) if isinstance(at, float) else at, repr(window), *args])

    # -- the operations -------------------------------------------------------------------
    def add(self, space: str, window: float, members: Mapping[str, Sequence[str]],
            at: float) -> None:
        args: list[Any] = []
        for items in members.values():
            args += [len(items), *items]
        self._run("add", space, "s", list(members), at, window, *args)

    def members(self, space: str, window: float, keys: Sequence[str],
                at: float | None) -> dict[str, list[str]]:
        found = self._run("members", space, "s", keys, _at(at), window)
        return {k: [_text(m) for m in v] for k, v in zip(keys, found, strict=True) if v}

    def remove(self, space: str, window: float, members: Mapping[str, Sequence[str]],
               at: float) -> None:
        args: list[Any] = []
        for items in members.values():
            args += [len(items), *items]
        self._run("remove", space, "s", list(members), _NO_WRITE, window, *args)

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
        args: list[Any] = []
        for group in (set_, {f: repr(v) for f, v in incr.items()},
                      {f: _num(v) for f, v in least.items()},
                      {f: _num(v) for f, v in greatest.items()}):
            args.append(len(group))
            for field, value in group.items():
                args += [field, value]
        flat = self._run("update", space, "m", [key], at, window, *args)
        return _pairs(flat)

    def read(self, space: str, window: float, keys: Sequence[str],
             at: float | None) -> dict[str, dict[str, str]]:
        found = self._run("read", space, "m", keys, _at(at), window)
        return {k: _pairs(v) for k, v in zip(keys, found, strict=True) if v}

    def put(self, space: str, window: float, values: Mapping[str, str], at: float) -> None:
        keys = list(values)
        self._run("put", space, "v", keys, at, window, *(values[k] for k in keys))

    def get(self, space: str, window: float, keys: Sequence[str],
            at: float | None) -> dict[str, str]:
        found = self._run("get", space, "v", keys, _at(at), window)
        return {k: _text(v) for k, v in zip(keys, found, strict=True) if v is not None}

    def first(self, space: str, window: float, key: str, member: str,
              at: float) -> tuple[str, float]:
        best = self._run("first", space, "f", [key], at, window, member)
        return _text(best[0]), float(best[1])

    def delete(self, space: str, keys: Sequence[str]) -> None:
        names = [self._key(space, kind, k) for k in keys for kind in _KINDS]
        with self.client.pipeline() as pipe:
            pipe.delete(*names)
            pipe.zrem(self._base(space) + "_expiry", *names)
            pipe.execute()

    def watermark(self, space: str) -> float | None:
        value = self.client.get(self._base(space) + "_mark")
        return None if value is None else float(value)

    def size(self, space: str) -> int:
        return int(self.client.zcard(self._base(space) + "_expiry"))

    def memory(self, space: str) -> int:
        """Bytes Redis uses for the space's keys (``MEMORY USAGE`` summed; for benchmarks)."""
        total = 0
        base = self._base(space)
        for name in self.client.scan_iter(match=base.replace("{", "\\{").replace("}", "\\}")
                                          + "*", count=1000):
            total += int(self.client.memory_usage(name, samples=0) or 0)
        return total


def _at(at: float | None) -> float | str:
    """A read's time: moves the watermark when given, else ``""`` (leave it)."""
    return _NO_WRITE if at is None else float(at)


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _pairs(flat: Sequence[Any]) -> dict[str, str]:
    items = [_text(v) for v in flat]
    return dict(zip(items[::2], items[1::2], strict=True))


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 2**53 else repr(value)
