"""The Hub client: pika's Twisted adapter, TLS with a client certificate, SASL EXTERNAL.

One module per Twisted role, fedora-messaging style: ``connection`` (TLS +
AMQP handshake), ``factory`` (reconnect with jittered backoff), ``publisher``
(confirms, mandatory, persistent), ``consumer`` (manual acks, bounded prefetch),
``client`` (:class:`HubClient`, what ``bridge run`` uses). pika exceptions are
translated into :mod:`bridge.edges.amqp.errors` at this edge.
"""
