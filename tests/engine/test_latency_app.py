"""The latency server's app, in process: its bodies, and the one-line errors `main` gives before it serves.

What it answers over HTTP is tested through the embedded server it runs in
(tests/engine/test_latency_server.py, the slow tier).
"""

from __future__ import annotations

import socket

import pytest

from lab.core.errors import InvalidSettings, LabError
from lab.engine.latency_app import main, zero_body


def test_bodies_are_built_once_per_size() -> None:
    assert zero_body(65536) is zero_body(65536)


def test_main_reports_a_port_in_use() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(LabError, match=rf"^could not listen on 127\.0\.0\.1:{port}: "):
            main(port=port)


@pytest.mark.parametrize("port", [-1, 65536])
def test_main_rejects_a_port_out_of_range(port: int) -> None:
    with pytest.raises(InvalidSettings, match="port must be a whole number from 0 to 65,535"):
        main(port=port)
