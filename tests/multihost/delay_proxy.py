"""A TCP proxy that adds latency: every chunk waits DELAY ± JITTER ms before it is passed on.

Used by the multi-host tests when the kernel has no ``netem``: a host reaches Redis through
its own proxy, so each direction of each connection is delayed like a slow link. Chunks of
one direction are released in the order they arrived (a later chunk never overtakes an
earlier one, as on a real link), and a closed side closes the other.

    python delay_proxy.py LISTEN_HOST:PORT TARGET_HOST:PORT DELAY_MS JITTER_MS [SEED]
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sys
import time


class Link:
    """One direction of one connection, with its own release clock."""

    def __init__(self, delay: float, jitter: float, rng: random.Random) -> None:
        self.delay = delay
        self.jitter = jitter
        self.rng = rng
        self.last_release = 0.0

    def release_at(self) -> float:
        wanted = time.monotonic() + max(0.0, self.rng.uniform(self.delay - self.jitter,
                                                             self.delay + self.jitter))
        self.last_release = max(wanted, self.last_release)
        return self.last_release


async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, link: Link) -> None:
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def send() -> None:
        while True:
            at, chunk = await queue.get()
            if not chunk:
                break
            wait = at - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(chunk)
            await writer.drain()

    sender = asyncio.create_task(send())
    try:
        while chunk := await reader.read(65536):
            queue.put_nowait((link.release_at(), chunk))
    except (ConnectionError, OSError):
        pass
    queue.put_nowait((0.0, b""))
    with contextlib.suppress(ConnectionError, OSError):
        await sender
    writer.close()


async def main(listen: str, target: str, delay_ms: float, jitter_ms: float, seed: int) -> None:
    rng = random.Random(seed)
    thost, tport = target.rsplit(":", 1)
    lhost, lport = listen.rsplit(":", 1)

    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(thost, int(tport))
        except OSError:
            client_w.close()
            return
        up = Link(delay_ms / 1000, jitter_ms / 1000, rng)
        down = Link(delay_ms / 1000, jitter_ms / 1000, rng)
        await asyncio.gather(pump(client_r, server_w, up), pump(server_r, client_w, down))

    server = await asyncio.start_server(handle, lhost, int(lport))
    print(f"delay proxy {listen} -> {target}: {delay_ms}±{jitter_ms} ms", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) not in (4, 5):
        sys.exit(__doc__)
    asyncio.run(main(args[0], args[1], float(args[2]), float(args[3]),
                     int(args[4]) if len(args) == 5 else 0))
