"""The server's listening sockets: one per server process on one port, the kernel sharing out connections."""

from __future__ import annotations

import socket
import sys
from collections import Counter

import pytest

from lab.web.runner import listening_sockets


@pytest.mark.skipif(sys.platform != "linux", reason="SO_REUSEPORT balances connections on Linux only")
def test_each_server_process_gets_its_own_socket_and_a_share_of_new_connections() -> None:
    sockets = listening_sockets(2)
    clients: list[socket.socket] = []
    try:
        assert len(sockets) == 2
        port = sockets[0].getsockname()[1]
        assert all(listener.getsockname() == ("127.0.0.1", port) for listener in sockets)
        for listener in sockets:
            listener.settimeout(0)
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(40)]
        accepted: Counter[int] = Counter()
        for position, listener in enumerate(sockets):
            while True:
                try:
                    connection, _ = listener.accept()
                except BlockingIOError:
                    break
                connection.close()
                accepted[position] += 1
        assert sum(accepted.values()) == 40
        assert min(accepted[0], accepted[1]) >= 5, accepted  # hashed by address: about half each
    finally:
        for each in (*clients, *sockets):
            each.close()


def test_one_server_process_listens_on_one_socket() -> None:
    (only,) = listening_sockets(1)
    try:
        assert only.getsockname()[0] == "127.0.0.1" and only.getsockname()[1] > 0
    finally:
        only.close()
