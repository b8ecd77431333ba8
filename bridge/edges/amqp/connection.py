"""Open one AMQP connection: TCP (+ TLS 1.2+ with client certificate) and the AMQP handshake.

pika's ``TwistedProtocolConnection`` ignores pika's own host/port/SSL
parameters: Twisted makes the connection. So TLS is Twisted's
(``optionsForClientTLS``: server certificate checked against our CA and the
host name, our certificate presented, TLS 1.2 minimum) and pika only does the
AMQP part (vhost, SASL EXTERNAL or PLAIN, heartbeat).
"""

from __future__ import annotations

from pathlib import Path

import pika
from pika.adapters.twisted_connection import TwistedProtocolConnection
from twisted.internet import defer, endpoints, ssl
from twisted.internet import error as twisted_error
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


class _Connection(TwistedProtocolConnection):
    """pika's protocol, remembering why the transport closed (pika only reports "attempts: 1")."""

    lost_reason: Failure | None = None

    def connectionMade(self):
        # pika writes a publish as several frames (method, header, body) and acks as
        # tiny ones: with Nagle on, a second small write waits for the broker's
        # delayed ACK (40 ms on Linux), which was most of our publish->confirm time.
        self.transport.setTcpNoDelay(True)
        super().connectionMade()

    def connectionLost(self, reason=None):
        self.lost_reason = reason
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
