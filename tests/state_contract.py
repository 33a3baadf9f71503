"""What every shared-state backend does (``copydesk.state``): the same tests run on the
in-process backend (tests/test_state.py) and on Redis (tests/integration/test_redis_state.py),
each module giving a ``make_state`` fixture that returns a fresh ``SharedState``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from copydesk.state import Claim, SharedState, StateError

MakeState = Callable[[], SharedState]
DAY = 86_400.0
T0 = 1_700_000_000.0


def test_members_come_back_oldest_first(make_state: MakeState) -> None:
    space = make_state().space("t")
    space.add({"word:rain": ["b"]}, at=T0 + 2)
    space.add({"word:rain": ["a"], "word:sun": ["a"]}, at=T0 + 1)
    assert space.members("word:rain", "word:sun", "word:snow") == {
        "word:rain": ["a", "b"], "word:sun": ["a"], "word:snow": []}


def test_a_member_added_again_takes_the_later_time(make_state: MakeState) -> None:
    space = make_state().space("t")
    space.add({"k": ["a", "b"]}, at=T0)
    space.add({"k": ["a"]}, at=T0 + 5)
    assert space.members("k") == {"k": ["b", "a"]}


def test_discarded_members_are_gone(make_state: MakeState) -> None:
    space = make_state().space("t")
    space.add({"k": ["a", "b"]}, at=T0)
    space.discard({"k": ["a"]}, at=T0)
    assert space.members("k") == {"k": ["b"]}


def test_counters_start_at_zero_and_add(make_state: MakeState) -> None:
    space = make_state().space("t")
    assert space.incr("df:rain", at=T0) == {"df:rain": 1}
    assert space.incr({"df:rain": 2, "df:sun": 0.5}, at=T0) == {"df:rain": 3, "df:sun": 0.5}
    assert space.counts("df:rain", "df:sun", "df:snow") == {
        "df:rain": 3, "df:sun": 0.5, "df:snow": 0}


def test_a_map_changes_several_fields_in_one_update(make_state: MakeState) -> None:
    space = make_state().space("t")
    space.update("story:1", at=T0, set={"label": "floods"}, incr={"size": 1},
                 least={"first": T0}, greatest={"last": T0})
    after = space.update("story:1", at=T0 + 9, incr={"size": 1, "w:rain": 0.25},
                         least={"first": T0 + 9}, greatest={"last": T0 + 9})
    assert after == {"label": "floods", "size": "2", "w:rain": "0.25",
                     "first": str(int(T0)), "last": str(int(T0 + 9))}
    assert space.read("story:1", "story:2") == {"story:1": after}


def test_a_change_is_an_update_without_its_answer(make_state: MakeState) -> None:
    space = make_state().space("t")
    space.update("story:1", at=T0, set={"label": "floods"}, incr={"size": 1},
                 least={"first": T0})
    assert space.change("story:1", at=T0 + 9, incr={"size": 2}, least={"first": T0 - 5},
                        greatest={"last": T0 + 9}) is None
    assert space.read("story:1") == {"story:1": {
        "label": "floods", "size": "3", "first": str(int(T0 - 5)), "last": str(int(T0 + 9))}}


def test_values_are_stored_and_replaced(make_state: MakeState) -> None:
    space = make_state().space("t")
    space.put({"text:a": "one", "text:b": "two"}, at=T0)
    space.put({"text:a": "uno"}, at=T0)
    assert space.get("text:a", "text:b", "text:c") == {"text:a": "uno", "text:b": "two"}


@pytest.mark.parametrize("order", [("a", "b", "c"), ("c", "b", "a"), ("b", "c", "a")])
def test_the_earliest_claimant_wins_whatever_order_the_claims_come_in(
        make_state: MakeState, order: tuple[str, ...]) -> None:
    times = {"a": T0 + 1, "b": T0 + 2, "c": T0 + 3}
    space = make_state().space("t")
    answers = [space.first("hash:x", m, at=times[m]) for m in order]
    assert answers[-1] == ("a", T0 + 1)
    assert answers[0] == (order[0], times[order[0]])


def test_claims_at_the_same_time_are_settled_by_member(make_state: MakeState) -> None:
    space = make_state().space("t")
    space.first("hash:x", "m2", at=T0)
    assert space.first("hash:x", "m1", at=T0) == ("m1", T0)


def test_a_key_not_written_within_the_window_expires(make_state: MakeState) -> None:
    space = make_state().space("t", window=timedelta(days=1))
    space.put({"old": "x"}, at=T0)
    space.add({"old-set": ["a"]}, at=T0)
    space.incr("old-count", at=T0)
    space.put({"kept": "y"}, at=T0 + DAY / 2)
    assert space.get("old", "kept") == {"old": "x", "kept": "y"}
    space.put({"new": "z"}, at=T0 + DAY + 60)  # the watermark moves past the old keys
    assert space.get("old", "kept", "new") == {"kept": "y", "new": "z"}
    assert space.members("old-set") == {"old-set": []}
    assert space.counts("old-count") == {"old-count": 0}
    assert space.watermark() == T0 + DAY + 60
    assert space.size() == 2


def test_old_members_of_a_set_still_written_to_expire(make_state: MakeState) -> None:
    space = make_state().space("t", window=timedelta(days=1))
    space.add({"k": ["old"]}, at=T0)
    space.add({"k": ["new"]}, at=T0 + 2 * DAY)
    assert space.members("k") == {"k": ["new"]}


def test_spaces_do_not_see_each_other(make_state: MakeState) -> None:
    state = make_state()
    state.space("one").put({"k": "1"}, at=T0)
    assert state.space("two").get("k") == {}


def test_forgotten_keys_are_gone(make_state: MakeState) -> None:
    space = make_state().space("t")
    space.put({"a": "1"}, at=T0)
    space.add({"b": ["x"]}, at=T0)
    space.forget("a", "b")
    assert space.get("a") == {} and space.members("b") == {"b": []}


@pytest.mark.parametrize("name", ["", "has space", "{braces}", "x" * 65])
def test_a_bad_space_name_is_refused(make_state: MakeState, name: str) -> None:
    with pytest.raises(StateError, match="state space name"):
        make_state().space(name)


def test_an_empty_key_is_refused(make_state: MakeState) -> None:
    with pytest.raises(StateError, match="state key"):
        make_state().space("t").put({"": "x"}, at=T0)


def test_a_window_must_be_positive(make_state: MakeState) -> None:
    with pytest.raises(StateError, match="window must be positive"):
        make_state().space("t", window=timedelta(0))


def test_a_read_at_a_later_time_sees_only_the_window_before_it(make_state: MakeState) -> None:
    space = make_state().space("t", window=timedelta(days=1))
    space.add({"k": ["old"]}, at=T0)
    space.put({"v": "old"}, at=T0)
    assert space.members("k", at=T0 + DAY / 2) == {"k": ["old"]}
    assert space.members("k", at=T0 + 2 * DAY) == {"k": []}
    assert space.get("v", at=T0 + 2 * DAY) == {}
    assert space.watermark() == T0 + 2 * DAY


def test_a_claim_older_than_the_window_no_longer_wins(make_state: MakeState) -> None:
    space = make_state().space("t", window=timedelta(days=1))
    space.first("hash:x", "old", at=T0)
    assert space.first("hash:x", "new", at=T0 + 2 * DAY) == ("new", T0 + 2 * DAY)


def test_a_claim_says_whom_it_overtook_when_it_becomes_the_earliest(
        make_state: MakeState) -> None:
    space = make_state().space("t")
    assert space.claim("text:x", "copy-2", at=T0 + 2) == Claim("copy-2", T0 + 2)
    assert space.claim("text:x", "copy-3", at=T0 + 3) == Claim("copy-2", T0 + 2)
    assert space.claim("text:x", "original", at=T0 + 1) == Claim(
        "original", T0 + 1, ("copy-2", "copy-3"))
    assert space.claim("text:x", "copy-2", at=T0 + 2) == Claim("original", T0 + 1)


def test_claims_made_together_answer_as_claims_made_one_after_the_other(
        make_state: MakeState) -> None:
    claims = [("text:x", "copy-2", T0 + 2), ("text:y", "other", T0 + 5),
              ("text:x", "copy-3", T0 + 3), ("text:x", "original", T0 + 1),
              ("text:x", "copy-2", T0 + 2)]
    one_by_one = make_state().space("t")
    together = make_state().space("t")
    together.put({"pending": "a write waiting to be sent"}, at=T0)
    assert together.claim_many(claims) == [one_by_one.claim(*c) for c in claims]
    assert together.claim_many([]) == []
    assert together.get("pending") == {"pending": "a write waiting to be sent"}


def test_the_first_claim_of_a_key_overtakes_no_one(make_state: MakeState) -> None:
    space = make_state().space("t")
    assert space.claim("text:x", "a", at=T0) == Claim("a", T0)
    assert space.claim("text:x", "a", at=T0) == Claim("a", T0)


def test_postings_keep_each_entry_once_in_the_order_posted(make_state: MakeState) -> None:
    space = make_state().space("t")
    space.post({"band:1": "a", "band:2": "a"}, at=T0)
    space.post({"band:1": "b"}, at=T0 + 1)
    space.post({"band:1": "a"}, at=T0 + 2)
    assert space.postings("band:1", "band:2", "band:3") == {
        "band:1": ["a", "b"], "band:2": ["a"], "band:3": []}


def test_postings_older_than_the_window_and_a_generation_are_gone(
        make_state: MakeState) -> None:
    space = make_state().space("t", window=timedelta(days=8))
    space.post({"band:1": "old"}, at=T0)
    space.post({"band:1": "new"}, at=T0 + 8 * DAY)
    assert space.postings("band:1", at=T0 + 8 * DAY) == {"band:1": ["old", "new"]}
    assert space.postings("band:1", at=T0 + 10 * DAY) == {"band:1": ["new"]}


@pytest.mark.parametrize("entry", ["", "two words", "x" * 65])
def test_a_bad_postings_entry_is_refused(make_state: MakeState, entry: str) -> None:
    with pytest.raises(StateError, match="postings entry"):
        make_state().space("t").post({"k": entry}, at=T0)
