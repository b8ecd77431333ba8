"""Open one AMQP connection: TCP (+ TLS 1.2+ with client certificate) and the AMQP handshake.

pika's ``TwistedProtocolConnection`` ignores pika's own host/port/SSL
parameters: Twisted makes the connection. So TLS is Twisted's
(``optionsForClientTLS``: server certificate checked against our CA and the
host name, our certificate presented, TLS 1.2 minimum) and pika only does the
AMQP part (vhost, SASL EXTERNAL or PLAIN, heartbeat).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pika
from pika.adapters.twisted_connection import TwistedProtocolConnection
from twisted.internet import defer, endpoints, ssl
from twisted.internet import error as twisted_error
from twisted.internet.protocol import Protocol
from twisted.python.failure import Failure

from bridge.edges.amqp.errors import ConnectionFailed
from bridge.edges.amqp.settings import AmqpConnectionSettings


def pika_parameters(settings: AmqpConnectionSettings) -> pika.ConnectionParameters:
    """The AMQP-level parameters: vhost, credentials, heartbeat."""
    if settings.username is not None:
        credentials = pika.PlainCredentials(settings.username, settings.password or "")
    else:
        credentials = pika.credentials.ExternalCredentials()
    return pika.ConnectionParameters(
        virtual_host=settings.vhost,
        credentials=credentials,
        heartbeat=settings.heartbeat,
        connection_attempts=1,
        blocked_connection_timeout=None,
    )


def tls_options(settings: AmqpConnectionSettings) -> ssl.IOpenSSLClientConnectionCreator:
    """Client TLS: verify the broker with our CA, present our certificate, TLS >= 1.2."""
    assert settings.ca_cert and settings.cert and settings.key
    try:
        trust = ssl.Certificate.loadPEM(Path(settings.ca_cert).read_bytes())
        mine = ssl.PrivateCertificate.loadPEM(
            Path(settings.cert).read_bytes() + b"\n" + Path(settings.key).read_bytes())
    except OSError as exc:
        raise ConnectionFailed(f"cannot read TLS files: {exc}") from exc
    return ssl.optionsForClientTLS(
        settings.server_hostname or settings.host,
        trustRoot=trust,
        clientCertificate=mine,
        extraCertificateOptions={"raiseMinimumTo": ssl.TLSVersion.TLSv1_2},
    )


def endpoint(settings: AmqpConnectionSettings, reactor) -> endpoints.TCP4ClientEndpoint | endpoints.SSL4ClientEndpoint:
    if settings.tls:
        return endpoints.wrapClientTLS(
            tls_options(settings),
            endpoints.TCP4ClientEndpoint(reactor, settings.host, settings.port, timeout=settings.connect_timeout))
    return endpoints.TCP4ClientEndpoint(reactor, settings.host, settings.port, timeout=settings.connect_timeout)


class CoalescingTransport:
    """The connection's transport as pika sees it: the frames written in one reactor turn leave as one write.

    pika writes every AMQP frame on its own: a publish is three writes (method, header,
    body), an ack one more. Over TLS each write became its own TLS record, encrypted and
    framed alone, written to the socket and decrypted alone by the broker. Here the writes
    are kept in order and handed on together once the current turn's work is done
    (``callLater(0)``: before the reactor next waits for I/O, so no added wait); closing
    first hands on what is kept, aborting drops it as the transport itself would.
    """

    def __init__(self, transport: Any, reactor: Any) -> None:
        self.transport = transport
        self._reactor = reactor
        self._pending: list[bytes] = []
        self._flush_call: Any = None
        self.writes = 0  # writes handed to the transport (what tests count)

    def write(self, data: bytes) -> None:
        self._pending.append(data)
        if self._flush_call is None:
            self._flush_call = self._reactor.callLater(0, self.flush)

    def writeSequence(self, data: Any) -> None:
        for chunk in data:
            self.write(chunk)

    def flush(self) -> None:
        """Hand on every write kept so far, as one."""
        call, self._flush_call = self._flush_call, None
        if call is not None and call.active():
            call.cancel()
        if self._pending:
            data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
            self._pending.clear()
            self.writes += 1
            self.transport.write(data)

    def loseConnection(self) -> None:
        self.flush()
        self.transport.loseConnection()

    def abortConnection(self) -> None:
        self.discard()
        self.transport.abortConnection()

    def discard(self) -> None:
        """Forget what is kept (the connection is gone: nothing can be written any more)."""
        call, self._flush_call = self._flush_call, None
        if call is not None and call.active():
            call.cancel()
        self._pending.clear()

    def __getattr__(self, name: str) -> Any:  # everything else is the transport's
        return getattr(self.transport, name)


class _Connection(TwistedProtocolConnection):
    """pika's protocol, remembering why the transport closed (pika only reports "attempts: 1").

    pika writes through a :class:`CoalescingTransport`.
    """

    lost_reason: Failure | None = None
    coalescing: CoalescingTransport | None = None

    def __init__(self, parameters: pika.ConnectionParameters, custom_reactor: Any = None) -> None:
        super().__init__(parameters, custom_reactor=custom_reactor)
        if custom_reactor is None:  # as pika: the global reactor
            from twisted.internet import reactor as custom_reactor
        self._reactor = custom_reactor

    def makeConnection(self, transport: Any) -> None:
        self.coalescing = CoalescingTransport(transport, self._reactor)
        self._impl.connection_made(self.coalescing)  # what pika writes to
        Protocol.makeConnection(self, transport)  # Twisted's own bookkeeping keeps the real one

    def connectionMade(self):
        # pika writes a publish as several frames (method, header, body) and acks as
        # tiny ones: with Nagle on, a second small write waits for the broker's
        # delayed ACK (40 ms on Linux), which was most of our publish->confirm time.
        self.transport.setTcpNoDelay(True)
        super().connectionMade()

    def connectionLost(self, reason=None):
        self.lost_reason = reason
        if self.coalescing is not None:
            self.coalescing.discard()
        if reason is not None and reason.check(twisted_error.ConnectionLost) and self._impl.is_closing:
            # After an AMQP Connection.Close/CloseOk the broker drops TCP without a TLS
            # close_notify; that is a clean end, not the ERROR pika would log.
            reason = Failure(twisted_error.ConnectionDone("closed after AMQP Connection.Close"))
        super().connectionLost(reason)


@defer.inlineCallbacks
def connect(settings: AmqpConnectionSettings, reactor):
    """Connect and finish the AMQP handshake; fires with the ``TwistedProtocolConnection``.

    Errbacks with :class:`ConnectionFailed` naming the target and the cause
    (refused certificate, unknown vhost, wrong credentials, timeout...).
    """
    target = f"amqp{'s' if settings.tls else ''}://{settings.host}:{settings.port}{settings.vhost}"
    try:
        point = endpoint(settings, reactor)
        protocol = _Connection(pika_parameters(settings), custom_reactor=reactor)
        timeout = reactor.callLater(settings.connect_timeout, _abort, protocol)
        try:
            yield endpoints.connectProtocol(point, protocol)
            yield protocol.ready
        finally:
            if timeout.active():
                timeout.cancel()
    except ConnectionFailed:
        raise
    except Exception as exc:
        cause = describe(exc)
        lost = getattr(locals().get("protocol"), "lost_reason", None)
        if lost is not None and not lost.check(twisted_error.ConnectionDone):
            cause = f"{cause}; transport closed by: {describe(lost)}"
        raise ConnectionFailed(f"cannot connect to {target}: {cause}") from exc
    return protocol


def _abort(protocol: TwistedProtocolConnection) -> None:
    if protocol.transport is not None:
        protocol.transport.abortConnection()
    elif protocol.ready is not None:
        ready, protocol.ready = protocol.ready, None
        ready.errback(twisted_error.TimeoutError("AMQP handshake did not finish"))


def describe(exc: BaseException | Failure) -> str:
    """A one-line description of a pika/Twisted/OpenSSL failure for logs and errors."""
    if isinstance(exc, Failure):
        exc = exc.value
    text = str(exc) or repr(exc)
    if isinstance(exc, pika.exceptions.ProbableAccessDeniedError):
        return f"access refused (vhost or permissions): {text}"
    if isinstance(exc, pika.exceptions.ProbableAuthenticationError):
        return f"authentication refused: {text}"
    return f"{type(exc).__name__}: {text}"
