"""The publish path of bridge/edges/amqp/frames.py writes exactly pika's bytes, and pika still has what it uses.

These tests pin the pika internals the direct path relies on: if pika changes its marshalling, the names or
the signatures, they fail (and the path must be updated or dropped), rather than the bridge sending other bytes.
"""

from __future__ import annotations

import inspect

import pika
import pika.channel
import pika.connection
import pika.exceptions
from hypothesis import given, settings
from hypothesis import strategies as st
from pika import spec
from pika.adapters.twisted_connection import TwistedProtocolConnection

from bridge.edges.amqp import frames


class _Connection:
    """The parts of a pika connection the publish path touches; pika's own ``_send_message`` runs on it too."""

    def __init__(self, body_max: int = 131_064) -> None:
        self._body_max_length = body_max
        self.bytes_sent = 0
        self.frames_sent = 0
        self.writes: list[bytes] = []

    def _adapter_emit_data(self, data: bytes) -> None:
        self.writes.append(data)

    def _send_message(self, channel_number, method, content) -> None:
        pika.connection.Connection._send_message(self, channel_number, method, content)  # type: ignore[arg-type]

    def _output_marshaled_frames(self, marshaled_frames) -> None:
        pika.connection.Connection._output_marshaled_frames(self, marshaled_frames)  # type: ignore[arg-type]


def _pika_bytes(channel_number: int, method, content, body_max: int = 131_064) -> tuple[bytes, int, int]:
    reference = _Connection(body_max)
    reference._send_message(channel_number, method, content)
    return b"".join(reference.writes), reference.bytes_sent, reference.frames_sent


short_text = st.text(max_size=90)  # up to 90 characters of up to 4 bytes: some past the 255-byte limit


@settings(max_examples=300, deadline=None)
@given(channel_number=st.integers(1, 65535), exchange=short_text, routing_key=short_text,
       mandatory=st.booleans(), content_type=short_text, delivery_mode=st.integers(0, 255),
       message_id=st.none() | short_text, body=st.binary(min_size=1, max_size=3000))
def test_the_direct_path_writes_pikas_bytes_in_one_write(channel_number, exchange, routing_key, mandatory,
                                                         content_type, delivery_mode, message_id, body):
    method = spec.Basic.Publish(exchange=exchange, routing_key=routing_key, mandatory=mandatory)
    properties = pika.BasicProperties(content_type=content_type, delivery_mode=delivery_mode, message_id=message_id)
    try:
        expected = _pika_bytes(channel_number, method, (properties, body))
    except pika.exceptions.ShortStringTooLong:  # a string over 255 bytes: pika refuses it, so must we
        connection = _Connection()
        path = frames.install(connection)
        try:
            connection._send_message(channel_number, method, (properties, body))
        except pika.exceptions.ShortStringTooLong:
            pass
        else:
            raise AssertionError("pika refused it (a string over 255 bytes), the direct path did not")
        assert connection.writes == [] and path is not None
        return
    connection = _Connection()
    path = frames.install(connection)
    assert path is not None
    connection._send_message(channel_number, method, (properties, body))
    connection._send_message(channel_number, method, (properties, body))  # the cached method frame
    assert connection.writes == [expected[0], expected[0]]
    assert (connection.bytes_sent, connection.frames_sent) == (2 * expected[1], 2 * expected[2])
    assert path.direct + path.delegated == 2


def test_what_the_bridge_publishes_takes_the_direct_path():
    connection = _Connection()
    path = frames.install(connection)
    assert path is not None
    method = spec.Basic.Publish(exchange="hubsante", routing_key="fr.health.samu440", mandatory=True)
    properties = pika.BasicProperties(content_type="application/json", delivery_mode=2,
                                      message_id="fr.health.samu440_1", headers=None)
    connection._send_message(1, method, (properties, b"{}"))
    assert (path.direct, path.delegated) == (1, 0) and len(connection.writes) == 1


def test_anything_else_goes_through_pikas_own_method_unchanged():
    method = spec.Basic.Publish(exchange="hubsante", routing_key="fr.health.samu440", mandatory=True)
    plain = dict(content_type="application/json", delivery_mode=2)
    cases = [
        (pika.BasicProperties(**plain, headers={"x": 1}), b"{}"),  # headers
        (pika.BasicProperties(**plain, priority=3), b"{}"),  # another property
        (pika.BasicProperties(**plain), b""),  # empty body: no body frame
        (pika.BasicProperties(**plain), b"x" * 5000),  # over this connection's frame size: several body frames
        (pika.BasicProperties(delivery_mode=2), b"{}"),  # no content type
    ]
    for properties, body in cases:
        expected = _pika_bytes(1, method, (properties, body), body_max=4096)
        connection = _Connection(body_max=4096)
        path = frames.install(connection)
        assert path is not None
        connection._send_message(1, method, (properties, body))
        assert b"".join(connection.writes) == expected[0] and len(connection.writes) > 1
        assert (path.direct, path.delegated) == (0, 1)


def test_pika_still_has_the_internals_the_direct_path_uses():
    """Names and signatures the direct path relies on (a pika upgrade that moves them fails here)."""
    send = inspect.signature(pika.connection.Connection._send_message)
    assert list(send.parameters) == ["self", "channel_number", "method_frame", "content"]
    assert list(inspect.signature(pika.connection.Connection._adapter_emit_data).parameters) == ["self", "data"]
    source = inspect.getsource(pika.connection.Connection)
    for name in ("self._body_max_length", "self.bytes_sent", "self.frames_sent"):
        assert name in source
    # the channel's publish reaches the connection's _send_message (the attribute the path replaces)
    assert "_send_method" in inspect.getsource(pika.channel.Channel.basic_publish)
    assert "self.connection._send_method" in inspect.getsource(pika.channel.Channel._send_method)
    assert "self._send_message(" in inspect.getsource(pika.connection.Connection._send_method)
    # the Twisted adapter keeps its pika connection as _impl (HubClient installs the path there)
    assert "self._impl = _TwistedConnectionAdapter(" in inspect.getsource(TwistedProtocolConnection.__init__)
    # the properties the direct path checks are all of BasicProperties' attributes
    attributes = set(vars(pika.BasicProperties()))
    assert attributes == {"content_type", "delivery_mode", "message_id", *frames.OTHER_PROPERTIES}


def test_install_keeps_pikas_path_on_an_object_without_its_parts():
    assert frames.install(None) is None
    assert frames.install(object()) is None
