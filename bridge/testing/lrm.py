"""A blocking simulated LRM for tests and benchmarks: frames out, acks and answers in.

It talks to the bridge's legacy TCP listener like a real LRM would (the
profile's framing and encoding) from an ordinary thread, with every wait
bounded, so a test can drive a bridge running in the reactor thread.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field

from bridge.core.framing import NEED_DATA, Deframer, frame


@dataclass
class LrmClient:
    host: str
    port: int
    framing: str = "stx-etx"
    encoding: str = "cp1252"
    acks: list[str] = field(default_factory=list)
    nacks: list[str] = field(default_factory=list)
    answers: dict[str, str] = field(default_factory=dict)
    answer_times: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.sock = socket.create_connection((self.host, self.port), timeout=10)
        self.sock.settimeout(0.2)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as an LRM sending small frames should
        self.deframer = Deframer(self.framing)

    def send(self, payload: bytes) -> None:
        self.sock.sendall(frame(payload, self.framing))

    def poll(self, seconds: float = 0.2) -> None:
        """Read whatever arrives within ``seconds`` and sort it into acks, nacks and answers."""
        end = time.monotonic() + seconds
        while (remaining := end - time.monotonic()) > 0:
            # never block past ``end``: a fixed 0.2 s timeout made a paced sender send in bursts
            self.sock.settimeout(min(remaining, 0.2))
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            if not data:
                return
            self.deframer.feed(data)
            while (item := self.deframer.next_frame()) is not NEED_DATA:
                self._sort(item.decode(self.encoding, errors="replace"))

    def _sort(self, text: str) -> None:
        if text.startswith("NACK"):
            self.nacks.append(text)
        elif text.startswith("ACK"):
            self.acks.append(text)
        else:
            fields = dict(line.split("=", 1) for line in text.replace("\r\n", "\n").split("\n") if "=" in line)
            key = fields.get("NUM_DOSSIER", f"#{len(self.answers)}")
            self.answers[key] = text
            self.answer_times.setdefault(key, time.perf_counter())

    def wait_for(self, condition, timeout: float) -> bool:
        """Poll until ``condition(self)`` holds or ``timeout`` seconds pass."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if condition(self):
                return True
            self.poll(0.1)
        return condition(self)

    def close(self) -> None:
        self.sock.close()
