"""The gateway under slow and idle clients (a real ``copydesk serve``): a client trickling its
request headers is answered 408 and disconnected; connections that send no request are
bounded, the idle-longest going first; requests are served all along; the refusals are
logged in a line per interval, not one each."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import Cluster
from tests.integration.gateway_fixtures import Gateway, start_gateway

pytestmark = pytest.mark.integration

MAX_IDLE = 5


@pytest.fixture(scope="module")
def gateway(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gw = start_gateway(cluster, tmp_path_factory.mktemp("gateway-connections"),
                       COPYDESK_GATEWAY__MAX_IDLE_CONNECTIONS=str(MAX_IDLE))
    yield gw
    gw.stop()


def connect(gateway: Gateway) -> socket.socket:
    port = int(gateway.url.rsplit(":", 1)[1])
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def closed_by_server(sock: socket.socket, wait: float) -> bytes | None:
    """What the server sent before closing ``sock`` within ``wait`` seconds; None when the
    connection is still open then."""
    sock.settimeout(wait)
    received = b""
    try:
        while chunk := sock.recv(4096):
            received += chunk
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return received


def test_a_client_trickling_its_headers_is_answered_408_and_disconnected(
        gateway: Gateway) -> None:
    sock = connect(gateway)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
    deadline = time.monotonic() + 30
    answer = None
    while time.monotonic() < deadline:  # one byte every half second, headers never ending
        try:
            sock.sendall(b"X")
        except (BrokenPipeError, ConnectionResetError):
            answer = closed_by_server(sock, 5) or b""
            break
        answer = closed_by_server(sock, 0.5)
        if answer is not None:
            break
    sock.close()
    assert answer is not None, "still connected after 30 s of trickled headers"
    assert answer == b"" or answer.startswith(b"HTTP/1.1 408")


def test_headers_sent_in_pieces_in_time_are_served(gateway: Gateway) -> None:
    sock = connect(gateway)
    for piece in (b"GET /healthz HTTP/1.1\r\n", b"Host: localhost\r\n", b"Connection: close\r\n",
                  b"\r\n"):
        sock.sendall(piece)
        time.sleep(0.3)
    answer = closed_by_server(sock, 30)
    sock.close()
    assert answer is not None and answer.startswith(b"HTTP/1.1 200")


def test_idle_connections_over_the_limit_close_the_oldest_and_requests_are_served(
        cluster: Cluster, tmp_path: Path) -> None:
    gateway = start_gateway(cluster, tmp_path, COPYDESK_GATEWAY__MAX_IDLE_CONNECTIONS=str(MAX_IDLE))
    try:
        closed_while_served(gateway)
    finally:
        gateway.stop()


def closed_while_served(gateway: Gateway) -> None:
    before = gateway.log.read_text(errors="replace").count("connections refused")
    idle = [connect(gateway) for _ in range(6 * MAX_IDLE)]
    time.sleep(0.5)
    assert httpx.get(gateway.url + "/healthz", timeout=10).status_code == 200
    still_open = [s for s in idle if closed_by_server(s, 0.2) is None]
    for s in idle:
        s.close()
    assert len(still_open) <= MAX_IDLE
    assert still_open == idle[-len(still_open):]  # the newest stay, the idle-longest went
    logged = gateway.log.read_text(errors="replace").count("connections refused") - before
    assert 1 <= logged <= 2  # 25 connections closed, one line per interval


def test_requests_are_served_while_many_clients_trickle_their_headers(
        gateway: Gateway) -> None:
    tricklers = [connect(gateway) for _ in range(6 * MAX_IDLE)]
    for sock in tricklers:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
    served = []
    alive = list(tricklers)
    for _ in range(6):  # a byte from each trickler every half second, a request between
        for sock in list(alive):
            try:
                sock.sendall(b"X")
            except OSError:
                alive.remove(sock)
        served.append(httpx.get(gateway.url + "/healthz", timeout=10).status_code)
        time.sleep(0.5)
    still_open = [s for s in tricklers if closed_by_server(s, 0.2) is None]
    for sock in tricklers:
        sock.close()
    assert served == [200] * 6
    assert len(still_open) <= MAX_IDLE


def test_with_few_file_descriptors_many_trickling_clients_neither_block_nor_flood_the_log(
        cluster: Cluster, tmp_path: Path) -> None:
    gateway = start_gateway(cluster, tmp_path, open_files=256)  # default limits
    try:
        tricklers = []
        for _ in range(300):  # more than the gateway may hold open
            sock = connect(gateway)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
            tricklers.append(sock)
        served = []
        for _ in range(6):
            for sock in tricklers:
                with contextlib.suppress(OSError):
                    sock.sendall(b"X")
            served.append(httpx.get(gateway.url + "/healthz", timeout=10).status_code)
            time.sleep(0.5)
        for sock in tricklers:
            sock.close()
    finally:
        gateway.stop()
    log = gateway.log.read_text(errors="replace")
    assert served == [200] * 6
    assert "Too many open files" not in log  # no traceback per connection it could not accept
    assert log.count("connections refused") <= 3
