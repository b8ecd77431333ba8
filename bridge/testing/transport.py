"""An in-memory TCP transport for driving Twisted protocols in tests and campaigns, without sockets."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from twisted.internet.address import IPv4Address


class MemoryTransport:
    """The little of a TCP transport HTTPChannel uses, kept in memory.

    Not ``twisted.internet.testing.StringTransport``: importing that module declares zope
    interfaces on ``collections.abc.Sequence``, which breaks xmlschema for every later test.
    """

    def __init__(self, peer: IPv4Address, host: IPv4Address) -> None:
        self.buffer, self.peer, self.host, self.disconnecting = bytearray(), peer, host, False

    def write(self, data: bytes) -> None:
        self.buffer += data

    def writeSequence(self, chunks: Iterable[bytes]) -> None:
        for chunk in chunks:
            self.write(chunk)

    def value(self) -> bytes:
        return bytes(self.buffer)

    def getPeer(self) -> IPv4Address:
        return self.peer

    def getHost(self) -> IPv4Address:
        return self.host

    def loseConnection(self) -> None:
        self.disconnecting = True

    abortConnection = loseConnection

    def registerProducer(self, producer: Any, streaming: bool) -> None:
        pass

    def unregisterProducer(self) -> None:
        pass

    def pauseProducing(self) -> None:
        pass

    def resumeProducing(self) -> None:
        pass

    def stopProducing(self) -> None:
        pass
