"""Real broker: mTLS + SASL EXTERNAL, and the certificates the broker must refuse."""

from __future__ import annotations

import pytest

from bridge.edges.amqp.client import HubClient
from bridge.edges.amqp.errors import ConnectionFailed
from tests.integration.rabbitmq import EXPIRED, SAMU, STRANGER, client_settings

pytestmark = pytest.mark.integration


def test_mtls_external_login_works(broker, hub, reactor_thread):
    """A client with a certificate from the test CA logs in with EXTERNAL and passes the passive declares."""
    client = HubClient(client_settings(broker, SAMU), reactor_thread.reactor, on_info=lambda d: None,
                       stop_on_shutdown=False)
    reactor_thread.call(client.start)
    try:
        assert client.state == "connected"
    finally:
        reactor_thread.call(client.stop)
    assert client.state == "stopped"


@pytest.mark.parametrize(("who", "alert"), [(STRANGER, "unknown ca"), (EXPIRED, "certificate expired")],
                         ids=["other-ca", "expired"])
def test_refused_certificates(broker, hub, reactor_thread, who, alert):
    """A certificate from another CA or an expired one is refused during the TLS handshake."""
    client = HubClient(client_settings(broker, who), reactor_thread.reactor, stop_on_shutdown=False)
    with pytest.raises(ConnectionFailed, match="gave up after 1 attempts"):
        reactor_thread.call(client.start)
    assert client.state == "failed"
    assert alert in client.session.last_error


def test_client_cannot_read_another_clients_queue(broker, hub, reactor_thread):
    """Permissions: a client consuming someone else's queue is refused at setup."""
    from tests.integration.rabbitmq import SDIS

    settings = client_settings(broker, SAMU)
    client = HubClient(settings, reactor_thread.reactor, on_message=lambda d: None, stop_on_shutdown=False)
    client.queue = lambda kind: f"{SDIS}.{kind}"  # try to read SDIS's queue with SAMU's certificate
    with pytest.raises(ConnectionFailed, match="ACCESS_REFUSED"):
        reactor_thread.call(client.start)
