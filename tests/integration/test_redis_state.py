"""The Redis backend of the shared state: the backend contract on a real Redis, and atomic
updates from many processes at once."""

from __future__ import annotations

import multiprocessing
import uuid
from collections.abc import Iterator

import pytest
import redis
from copydesk.state import SharedState
from copydesk.workers.queue.redis_state import RedisState

from tests.state_contract import *  # noqa: F403 (the backend contract, run here on Redis)
from tests.state_contract import T0, MakeState

pytestmark = pytest.mark.integration


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def make_state(client: redis.Redis) -> MakeState:
    # a fresh key prefix per state, so each test starts empty on the shared server
    return lambda: SharedState(RedisState(client, prefix=f"t{uuid.uuid4().hex[:8]}"))


def _hammer(url: str, prefix: str, worker: int) -> None:
    space = SharedState(RedisState(redis.Redis.from_url(url), prefix)).space("race")
    for i in range(200):
        space.incr("n", at=T0 + i)
        space.update("m", at=T0 + i, incr={"hits": 1}, greatest={"top": worker * 1000 + i})
        space.add({"set": [f"{worker}-{i}"]}, at=T0 + i)
        space.first("claim", f"w{worker}-{i:03d}", at=T0 + (i % 50))


def test_updates_from_four_processes_at_once_lose_nothing(redis_url: str,
                                                          client: redis.Redis) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}"
    procs = [multiprocessing.get_context("spawn").Process(target=_hammer,
                                                          args=(redis_url, prefix, w))
             for w in range(4)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
        assert proc.exitcode == 0
    space = SharedState(RedisState(client, prefix)).space("race")
    assert space.counts("n") == {"n": 800}
    assert space.read("m")["m"] == {"hits": "800", "top": "3199"}
    assert len(space.members("set")["set"]) == 800
    assert space.first("claim", "zz", at=T0 + 100) == ("w0-000", T0)


def test_times_keep_their_microseconds(make_state: MakeState) -> None:
    space = make_state().space("t")
    space.first("k", "a", at=T0 + 0.000001)
    assert space.first("k", "b", at=T0 + 0.000002) == ("a", T0 + 0.000001)


def test_the_keys_follow_the_documented_schema(client: redis.Redis) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}"
    state = SharedState(RedisState(client, prefix))
    space = state.space("reuse")
    space.add({"band:1": ["a"]}, at=T0)
    space.put({"text:a": "x"}, at=T0)
    state.flush()
    assert sorted(client.keys(prefix + ":*")) == [
        f"{prefix}:state:{{reuse}}:_expiry", f"{prefix}:state:{{reuse}}:_mark",
        f"{prefix}:state:{{reuse}}:s:band:1", f"{prefix}:state:{{reuse}}:v:text:a"]


def test_writes_wait_for_the_next_answer_or_a_flush_and_keep_their_order(
        client: redis.Redis) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}"
    mine = SharedState(RedisState(client, prefix))
    other = SharedState(RedisState(client, prefix)).space("stories")
    space = mine.space("stories")
    space.add({"t:harbour": ["a"]}, at=T0)
    space.put({"a:a": "first"}, at=T0)
    space.put({"a:a": "second"}, at=T0)
    assert other.get("a:a") == {}  # held back in the writing process
    assert space.get("a:a") == {"a:a": "second"}  # sent before this read, in order
    assert other.members("t:harbour") == {"t:harbour": ["a"]}
    space.change("s:a", at=T0, incr={"size": 1})
    assert other.read("s:a") == {}  # held back like the other writes
    assert space.read("s:a") == {"s:a": {"size": "1"}}
    space.forget("a:a")
    mine.flush()
    assert other.get("a:a") == {}
