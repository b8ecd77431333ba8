"""A publish's three AMQP frames marshalled in one step and written in one write, on one pika connection.

pika's ``Connection._send_message`` builds a method frame object, a header frame object and a body
frame object per message, marshals each through its generic encoders (``spec.Basic.Publish.encode``,
``BasicProperties.encode`` testing fourteen properties) and hands the transport three writes. For what
the bridge publishes (``Basic.Publish`` with ``content_type``, ``delivery_mode`` and ``message_id`` set,
nothing else, a body that fits one frame) the bytes are fixed but for the lengths, the two strings and
the body: the method frame is cached per exchange and routing key, the header is packed directly, and
the three frames go out as one write. Anything else (other properties, headers, an empty body, a body
needing several frames, a short string over 255 bytes) goes through pika's own method unchanged.

This relies on pika internals, installed on one connection object (never on pika's classes):
``Connection._send_message(channel_number, method, content)``, ``_adapter_emit_data``,
``_body_max_length``, ``bytes_sent`` and ``frames_sent``, and the wire format of pika's marshalling.
``tests/unit/test_amqp_frames.py`` pins each of them (the bytes equal pika's own for generated
messages; the attributes exist with those signatures) and fails if pika changes them;
``tests/integration/test_hub_dispatcher.py`` publishes through it to the real broker.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from pika import spec

FRAME_HEADER_PREFIX = struct.Struct(">BHI")  # type, channel, payload size
HEADER_FIXED = struct.Struct(">HxxQH")  # class id (Basic), weight 0, body size, property flags
FRAME_END = b"\xce"
FLAGS = spec.BasicProperties.FLAG_CONTENT_TYPE | spec.BasicProperties.FLAG_DELIVERY_MODE
FLAGS_WITH_ID = FLAGS | spec.BasicProperties.FLAG_MESSAGE_ID
# the properties that must be None for the direct path (every BasicProperties attribute but the three we write)
OTHER_PROPERTIES = ("content_encoding", "headers", "priority", "correlation_id", "reply_to", "expiration",
                    "timestamp", "type", "user_id", "app_id", "cluster_id")
MAX_CACHED_METHODS = 64


class ContentFrames:
    """The publish path installed on one pika connection (:func:`install`); counts what it wrote itself."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.original: Callable[[int, Any, Any], None] = connection._send_message
        self._methods: dict[tuple[int, int, str, str, bool, bool], bytes] = {}
        self.direct = 0  # publishes written by this path (tests and benchmarks)
        self.delegated = 0  # publishes handed to pika's own method

    def send_message(self, channel_number: int, method: Any, content: tuple[Any, bytes]) -> None:
        data = self.marshal(channel_number, method, content)
        if data is None:
            self.delegated += 1
            self.original(channel_number, method, content)
            return
        connection = self.connection
        connection.bytes_sent += len(data)
        connection.frames_sent += 3
        self.direct += 1
        connection._adapter_emit_data(data)

    def marshal(self, channel_number: int, method: Any, content: tuple[Any, bytes]) -> bytes | None:
        """The three frames as one bytes, or None when pika's own method must marshal this message."""
        properties, body = content
        if method.__class__ is not spec.Basic.Publish or properties.__class__ is not spec.BasicProperties:
            return None
        length = len(body)
        if not 0 < length <= self.connection._body_max_length or body.__class__ is not bytes:
            return None
        content_type, delivery_mode, message_id = properties.content_type, properties.delivery_mode, \
            properties.message_id
        if content_type.__class__ is not str or delivery_mode.__class__ is not int or not 0 <= delivery_mode <= 255:
            return None
        for name in OTHER_PROPERTIES:
            if getattr(properties, name) is not None:
                return None
        type_bytes = content_type.encode()
        if len(type_bytes) > 255:
            return None
        if message_id is None:
            payload = (HEADER_FIXED.pack(spec.BasicProperties.INDEX, length, FLAGS) + bytes((len(type_bytes),))
                       + type_bytes + bytes((delivery_mode,)))
        else:
            if message_id.__class__ is not str:
                return None
            id_bytes = message_id.encode()
            if len(id_bytes) > 255:
                return None
            payload = (HEADER_FIXED.pack(spec.BasicProperties.INDEX, length, FLAGS_WITH_ID) + bytes((len(type_bytes),))
                       + type_bytes + bytes((delivery_mode, len(id_bytes))) + id_bytes)
        return b"".join((self._method_frame(channel_number, method),
                         FRAME_HEADER_PREFIX.pack(spec.FRAME_HEADER, channel_number, len(payload)), payload, FRAME_END,
                         FRAME_HEADER_PREFIX.pack(spec.FRAME_BODY, channel_number, length), body, FRAME_END))

    def _method_frame(self, channel_number: int, method: Any) -> bytes:
        key = (channel_number, method.ticket, method.exchange, method.routing_key, bool(method.mandatory),
               bool(method.immediate))
        frame = self._methods.get(key)
        if frame is None:
            from pika.frame import Method

            if len(self._methods) >= MAX_CACHED_METHODS:
                self._methods.clear()
            frame = self._methods[key] = Method(channel_number, method).marshal()
        return frame


def install(connection: Any) -> ContentFrames | None:
    """Route ``connection``'s publishes through :class:`ContentFrames`; None (pika's path kept) if it lacks a part."""
    needed = ("_send_message", "_adapter_emit_data", "_body_max_length", "bytes_sent", "frames_sent")
    if connection is None or not all(hasattr(connection, name) for name in needed):
        return None
    frames = ContentFrames(connection)
    connection._send_message = frames.send_message
    return frames
