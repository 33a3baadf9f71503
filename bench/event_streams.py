"""Submissions while event streams are open: POST latency with 0 and with N open streams.

Starts a private redis-server and a real ``copydesk serve`` on free ports (no worker is
needed: a submission is answered once it is enqueued), opens N ``GET /v1/events`` streams,
and times sequential single-article POSTs before and during; prints the medians and their
ratio, with the machine's load.

    python bench/event_streams.py [--streams 300] [--posts 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

TOKEN = "bench-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def post_latencies(api: httpx.AsyncClient, n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        response = await api.post("/v1/articles", json={"id": f"b-{uuid.uuid4().hex}",
                                                         "text": "A short bench article."})
        out.append(time.perf_counter() - started)
        if response.status_code != 202:
            raise RuntimeError(f"submission answered {response.status_code}: {response.text}")
    return out


async def hold(client: httpx.AsyncClient, ready: asyncio.Queue[None],
               stop: asyncio.Event) -> None:
    async with client.stream("GET", "/v1/events") as response:
        if response.status_code != 200:
            raise RuntimeError(f"stream answered {response.status_code}")
        lines = response.aiter_lines()
        await anext(lines)
        await ready.put(None)
        await stop.wait()


async def measure(url: str, streams: int, posts: int) -> tuple[list[float], list[float]]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    limits = httpx.Limits(max_connections=streams + 10, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as api, \
            httpx.AsyncClient(base_url=url, headers=headers, limits=limits,
                              timeout=60) as held:
        await post_latencies(api, 20)  # warm up
        idle = await post_latencies(api, posts)
        ready: asyncio.Queue[None] = asyncio.Queue()
        stop = asyncio.Event()
        tasks = [asyncio.create_task(hold(held, ready, stop)) for _ in range(streams)]
        for _ in range(streams):
            await asyncio.wait_for(ready.get(), timeout=120)
        busy = await post_latencies(api, posts)
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
    return idle, busy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=300)
    parser.add_argument("--posts", type=int, default=200)
    args = parser.parse_args()
    redis_server = shutil.which("redis-server") or "/usr/bin/redis-server"
    copydesk = str(Path(sys.executable).with_name("copydesk"))
    workdir = tempfile.mkdtemp(prefix="copydesk-bench-")
    rport, gport = free_port(), free_port()
    redis_proc = subprocess.Popen([redis_server, "--port", str(rport), "--bind", "127.0.0.1",
                                   "--save", "", "--appendonly", "no", "--dir", workdir],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPYDESK_")}
    env.update({"COPYDESK_REDIS_URL": f"redis://127.0.0.1:{rport}/0",
                "COPYDESK_GATEWAY__TOKENS": TOKEN, "COPYDESK_WORKER__KEY_PREFIX": "bench",
                "COPYDESK_WORKER__QUEUE": "bench"})
    gateway = subprocess.Popen([copydesk, "serve", "--port", str(gport), "--no-access-log"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{gport}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the gateway did not start")
            time.sleep(0.2)
        idle, busy = asyncio.run(measure(url, args.streams, args.posts))
    finally:
        gateway.terminate()
        gateway.wait(timeout=20)
        redis_proc.terminate()
        redis_proc.wait(timeout=20)
        shutil.rmtree(workdir, ignore_errors=True)
    load = os.getloadavg()
    a, b = statistics.median(idle), statistics.median(busy)
    print(f"POST /v1/articles, {args.posts} sequential submissions (median, p95):")
    print(f"  0 open event streams:   {a * 1000:7.2f} ms  "
          f"{statistics.quantiles(idle, n=20)[18] * 1000:7.2f} ms")
    print(f"  {args.streams} open event streams: {b * 1000:7.2f} ms  "
          f"{statistics.quantiles(busy, n=20)[18] * 1000:7.2f} ms")
    print(f"  ratio (with / without): {b / a:.2f}; every submission answered 202")
    print(f"  load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
