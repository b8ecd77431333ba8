"""CPU of the end-to-end-only parts of the bridge timed alone, per frame or delivery (issue 18, fourth pass).

What ``benchmarks/e2e.py`` costs beyond ``benchmarks/hot_path.py``'s steps, in pieces small enough to
compare on a loaded machine: the legacy TCP reply path (deframing, ``on_frame``, reply ordering, write),
the service's reply plumbing (the reply waiting for the group commit, the STORE nack, the commit, the
publish-pass request), one empty publish pass, and the AMQP consumer's path (Delivery, callback,
settle; pika's frames counted, not timed). ``time.process_time``, best of 5.

It imports the ``bridge`` the interpreter has installed (it does not put its own checkout first), and
uses only what main has had since issue 18, so the same file times any checkout in the same minutes:

    cd CHECKOUT && .venv/bin/python /path/to/benchmarks/edge_parts.py
"""

from __future__ import annotations

import io
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pika
from pika.adapters.twisted_connection import ClosableDeferredQueue, ReceivedMessage
from twisted.internet import defer, task
from twisted.internet.address import IPv4Address

import bridge
from bridge.app.ports import FrameHandled
from bridge.core.framing import frame
from bridge.edges.amqp import consumer as consumer_module
from bridge.edges.tcp.link import LegacyLink
from bridge.edges.tcp.protocol import LegacyFrameProtocol
from bridge.runtime.logging import configure_logging


def _best(call: Callable[[], float], passes: int = 5) -> float:
    return min(call() for _ in range(passes))


class _Transport:
    def __init__(self) -> None:
        self.writes = 0

    def getPeer(self) -> IPv4Address:
        return IPv4Address("TCP", "127.0.0.1", 40000)

    def setTcpNoDelay(self, enabled: bool) -> None:
        pass

    def write(self, data: bytes) -> None:
        self.writes += 1

    def loseConnection(self) -> None:
        pass


class _Handler:
    def __init__(self) -> None:
        self.pending: list[FrameHandled] = []

    def on_lrm_connected(self) -> None:
        pass

    def on_legacy_frame(self, payload: bytes) -> FrameHandled:
        handled = FrameHandled()
        self.pending.append(handled)
        return handled


def tcp_reply_path(frames: int = 20_000, per_read: int = 20) -> float:
    """Seconds per frame: ``per_read`` frames per read, each answered after its (immediate) commit."""
    handler, transport = _Handler(), _Transport()
    protocol = LegacyFrameProtocol(LegacyLink(handler, framing="stx-etx", max_frame=65536))
    protocol.makeConnection(transport)
    chunk = b"".join(frame(b"X=%d" % n + b"y" * 300, "stx-etx") for n in range(per_read))
    started = time.process_time()
    for _ in range(frames // per_read):
        protocol.dataReceived(chunk)
        pending, handler.pending = handler.pending, []
        for handled in pending:
            handled.callback(b"ACK=1")
    spent = time.process_time() - started
    assert transport.writes == frames
    return spent / frames


def reply_plumbing(groups: int = 300, per_group: int = 20) -> tuple[float, float]:
    """Seconds per frame of the reply plumbing (groups of ``per_group``), and per empty publish pass."""
    from bridge.app import service as service_module
    from bridge.testing.rig import Rig

    rig = Rig(Path(tempfile.mkdtemp(prefix="bridge-edge-parts-")))
    service, translator = rig.service, rig.service.translator
    payload = b"\x02ID=DEMO-1\x03"
    ack = translator.ack_for(payload, "DEMO-1")
    reply_when_durable = getattr(service, "_reply_when_durable", None)

    def nack() -> bytes | None:
        return translator.nack_for(payload, "STORE", "bridge store failed, retry", "DEMO-1")

    def one_group() -> None:
        service._open_group()
        for _ in range(per_group):
            if reply_when_durable is not None:
                reply = reply_when_durable(ack, nack, accepted=True)
            else:  # main before this pass: a durable() waiter, the reply chained onto it, the nack built up front
                built = nack()
                reply = service_module._handled(  # type: ignore[attr-defined]
                    service.durable().addCallbacks(lambda _: ack, lambda _failure, b=built: b), accepted=True)
            reply.addCallback(lambda _value: None)
        service.commit()
        rig.clock.advance(0)  # the publish pass the commit asked for (the outbox is empty)

    def timed(call: Callable[[], None], n: int) -> Callable[[], float]:
        def run() -> float:
            started = time.process_time()
            for _ in range(n):
                call()
            return (time.process_time() - started) / n
        return run

    try:
        per_frame = _best(timed(one_group, groups)) / per_group
        per_pass = _best(timed(service._publish_pass, 3000))
    finally:
        rig.close()
    return per_frame, per_pass


class _Channel:
    def __init__(self) -> None:
        self.queue = ClosableDeferredQueue()
        self.ack_frames = 0
        self.is_open = True

    def basic_qos(self, prefetch_count: int) -> defer.Deferred[None]:
        return defer.succeed(None)

    def basic_consume(self, queue: str, auto_ack: bool = False) -> defer.Deferred[Any]:
        return defer.succeed((self.queue, "ctag"))

    def basic_ack(self, tag: int, multiple: bool = False) -> None:
        self.ack_frames += 1


def consumer_path(deliveries: int = 20_000, per_turn: int = 10) -> tuple[float, float]:
    """Seconds per delivery whose callback waits for a commit, and ack frames per delivery."""
    channel, clock = _Channel(), task.Clock()
    waiting: list[defer.Deferred[None]] = []

    def callback(_delivery: Any) -> defer.Deferred[None]:
        waiting.append(defer.Deferred())
        return waiting[-1]

    acks = getattr(consumer_module, "ChannelAcks", None)
    extra = {"acks": acks(channel, clock)} if acks is not None else {}
    consumer = consumer_module.Consumer(channel, "me.ack", callback, **extra)  # type: ignore[arg-type]
    consumer.start()
    props = pika.BasicProperties(content_type="application/json", delivery_mode=2, message_id="m")
    messages = [ReceivedMessage(channel=channel, method=SimpleNamespace(delivery_tag=n + 1, redelivered=False,
                                                                         routing_key="me.ack", exchange="hubsante"),
                                properties=props, body=b"{}") for n in range(deliveries)]
    started = time.process_time()
    for first in range(0, deliveries, per_turn):
        for message in messages[first:first + per_turn]:
            channel.queue.put(message)
        committed, waiting[:] = list(waiting), []
        for waiter in committed:
            waiter.callback(None)  # the group commit
        clock.advance(0)  # the end of the reactor turn
    spent = time.process_time() - started
    return spent / deliveries, channel.ack_frames / deliveries


class _PikaConnection:
    """The parts of a pika connection its publish marshalling touches, writing into a counter."""

    def __init__(self) -> None:
        self._body_max_length = 131_064
        self.bytes_sent = self.frames_sent = self.writes = 0

    def _adapter_emit_data(self, data: bytes) -> None:
        self.writes += 1

    def _output_marshaled_frames(self, marshaled_frames: list[bytes]) -> None:
        pika.connection.Connection._output_marshaled_frames(self, marshaled_frames)  # type: ignore[arg-type]

    def _send_message(self, channel_number: int, method: Any, content: Any) -> None:
        pika.connection.Connection._send_message(self, channel_number, method, content)  # type: ignore[arg-type]


def publish_marshal(publishes: int = 20_000) -> tuple[float, float]:
    """Seconds per publish from pika's ``Basic.Publish`` + properties to the transport writes, and writes per
    publish: pika's own path on main, ``bridge/edges/amqp/frames.py`` where the checkout has it."""
    import pika.connection

    connection = _PikaConnection()
    try:
        from bridge.edges.amqp import frames

        frames.install(connection)
    except ImportError:
        pass
    body = b"x" * 3000  # about a createCase
    started = time.process_time()
    for n in range(publishes):
        properties = pika.BasicProperties(content_type="application/json", delivery_mode=2,
                                          message_id=f"fr.health.samu440_{n:036d}")
        method = pika.spec.Basic.Publish(exchange="hubsante", routing_key="fr.health.samu440", mandatory=True)
        connection._send_message(1, method, (properties, body))
    return (time.process_time() - started) / publishes, connection.writes / publishes


def main() -> int:
    configure_logging("json", "WARNING", stream=io.StringIO())  # as benchmarks/e2e.py runs the bridge
    print(f"bridge from {Path(bridge.__file__).parent}; best of 5, CPU per item:")
    print(f"  legacy TCP reply path        {1e6 * _best(tcp_reply_path):6.2f} us per frame")
    per_frame, per_pass = reply_plumbing()
    print(f"  reply plumbing (groups of 20) {1e6 * per_frame:5.2f} us per frame; one empty publish pass"
          f" {1e6 * per_pass:.1f} us")
    runs = [consumer_path() for _ in range(5)]
    print(f"  consumer path                {1e6 * min(r[0] for r in runs):6.2f} us per delivery,"
          f" {runs[0][1]:.2f} ack frames per delivery at 10 deliveries per reactor turn")
    runs = [publish_marshal() for _ in range(5)]
    print(f"  publish frames (pika -> transport) {1e6 * min(r[0] for r in runs):4.2f} us per publish,"
          f" {runs[0][1]:.0f} transport writes per publish")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
