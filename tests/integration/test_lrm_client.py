"""The test LRM (bridge.testing.lrm) keeps the pace its callers ask for; benchmarks rely on it."""

from __future__ import annotations

import socket
import time

from bridge.testing.lrm import LrmClient


def test_poll_returns_at_its_deadline_when_nothing_comes_back():
    """poll(0.05) on a silent link must not sleep its socket's 0.2 s timeout (that made paced senders bursty)."""
    server = socket.create_server(("127.0.0.1", 0))
    try:
        client = LrmClient("127.0.0.1", server.getsockname()[1])
        peer, _ = server.accept()
        try:
            started = time.monotonic()
            client.poll(0.05)
            elapsed = time.monotonic() - started
            assert 0.05 <= elapsed < 0.19, elapsed
        finally:
            client.close()
            peer.close()
    finally:
        server.close()
