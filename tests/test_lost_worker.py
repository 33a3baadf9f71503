"""The reason recorded when a pool process dies (``workers.worker.lost``): a SIGKILL says the
process was probably killed for memory, and says so as a fact when the cgroup counted it."""

from __future__ import annotations

from pathlib import Path

from copydesk.workers.worker.lost import lost_reason, oom_kills

SIGKILL = "Worker exited prematurely: signal 9 (SIGKILL) Job: 3."


def test_a_sigkill_says_the_process_was_probably_killed_for_memory() -> None:
    reason = lost_reason(SIGKILL, None, None)
    assert reason.startswith(f"the worker process was lost ({SIGKILL})")
    assert "probably killed for memory" in reason and "OOM killer" in reason


def test_a_sigkill_the_cgroup_counted_says_it_was_the_oom_killer() -> None:
    reason = lost_reason(SIGKILL, 2, 3)
    assert "killed by the kernel's OOM killer" in reason and "probably" not in reason


def test_a_sigkill_the_cgroup_did_not_count_stays_probable() -> None:
    assert "probably killed for memory" in lost_reason(SIGKILL, 3, 3)


def test_another_exit_is_reported_as_it_is() -> None:
    error = "Worker exited prematurely: exitcode 1 Job: 3."
    assert lost_reason(error, 0, 1) == f"the worker process was lost ({error})"


def test_the_oom_kill_count_is_read_from_cgroup_v2_memory_events(tmp_path: Path) -> None:
    events = tmp_path / "memory.events"
    events.write_text("low 0\nhigh 0\nmax 4\noom 2\noom_kill 2\noom_group_kill 0\n")
    assert oom_kills((tmp_path / "absent", events)) == 2


def test_no_cgroup_file_means_no_count(tmp_path: Path) -> None:
    assert oom_kills((tmp_path / "absent",)) is None
