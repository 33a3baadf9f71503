"""Why a pool process was lost: the reason recorded on the article, and in its dead letter.

Celery reports a pool process that died as ``WorkerLostError("Worker exited prematurely:
signal 9 (SIGKILL) …")``. Nothing in a worker sends SIGKILL to its own processes except the
hard time limit (reported on its own, as such), so a SIGKILL is almost always the kernel's
OOM killer: the process outgrew the memory it may use. When the worker runs in a cgroup
whose ``oom_kill`` counter (cgroup v2 ``memory.events``, v1 ``memory.oom_control``) rose
since the worker started, the reason says so as a fact; otherwise as the likely cause.
"""

from __future__ import annotations

from pathlib import Path

CGROUP_FILES = (Path("/sys/fs/cgroup/memory.events"),
                Path("/sys/fs/cgroup/memory/memory.oom_control"))


def oom_kills(files: tuple[Path, ...] = CGROUP_FILES) -> int | None:
    """How many processes the OOM killer has killed in this cgroup, if the kernel says."""
    for path in files:
        try:
            lines = path.read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            name, _, value = line.partition(" ")
            if name == "oom_kill" and value.strip().isdigit():
                return int(value)
    return None


def killed_by_sigkill(error: str) -> bool:
    return "SIGKILL" in error or "signal 9 " in error


def lost_reason(error: str, oom_kills_at_start: int | None,
                oom_kills_now: int | None) -> str:
    """The reason recorded for a pool process that died with ``error``."""
    reason = f"the worker process was lost ({error})"
    if not killed_by_sigkill(error):
        return reason
    if oom_kills_at_start is not None and oom_kills_now is not None \
            and oom_kills_now > oom_kills_at_start:
        return (reason + "; it was killed by the kernel's OOM killer (out of memory: the "
                "cgroup's oom_kill count rose): give the worker more memory or fewer pool "
                "processes (--concurrency)")
    return (reason + "; it was probably killed for memory (SIGKILL is what the kernel's OOM "
            "killer sends): check `dmesg` or the container's memory limit, or lower "
            "--concurrency")
