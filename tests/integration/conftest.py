"""Session fixtures for the real-RabbitMQ tests: one private broker, the Hub topology, the dispatcher.

The broker is started by the tests themselves (loopback ports picked free,
unique node name, test CA in a temp dir) and stopped by PID at the end.
"""

from __future__ import annotations

import pytest

from tests.conftest import reference_dir
from tests.integration.rabbitmq import CLIENTS, EXPIRED, STRANGER, VHOST, admin_settings

BROKER_START_TIMEOUT = 120


@pytest.fixture(scope="session")
def broker(tmp_path_factory):
    """A private RabbitMQ node with mTLS + EXTERNAL, stopped (by PID) after the session."""
    from bridge.testing.rabbitmq import rabbitmq_missing_reason, start_broker

    reason = rabbitmq_missing_reason()
    if reason:
        pytest.skip(reason)
    node = start_broker(tmp_path_factory.mktemp("rabbitmq"), CLIENTS, expired_clients=(EXPIRED,),
                        other_ca_clients=(STRANGER,), startup_timeout=BROKER_START_TIMEOUT)
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="session")
def reactor_thread():
    """The Twisted reactor running in a background thread for the session."""
    from bridge.testing.reactor import ReactorThread

    thread = ReactorThread().start()
    yield thread
    thread.stop()


@pytest.fixture(scope="session")
def hub_validator():
    """The schema check the emulator applies: official schemas when the corpus is present."""
    from bridge.sim.hub_emulator.schemas import reference_validator

    ref = reference_dir()
    if ref is not None:
        return reference_validator(ref)
    try:
        from bridge import validate  # type: ignore[attr-defined]
    except ImportError:
        pytest.skip("no schema validator: official corpus absent and bridge.validate not available")
    return lambda body: list(validate(body))


@pytest.fixture(scope="session")
def hub(broker, reactor_thread, hub_validator):
    """The Hub topology provisioned in VHOST and the emulator's dispatcher running on it."""
    from bridge.sim.hub_emulator.dispatcher_service import DispatcherService
    from bridge.sim.hub_emulator.provision import ManagementApi, add_client, provision

    api = ManagementApi(broker.management_url, broker.admin_user, broker.admin_password)
    provision(api, VHOST, CLIENTS)
    for extra in (EXPIRED, STRANGER):  # users exist: their refusal must come from TLS, not a missing user
        add_client(api, VHOST, extra)
    service = DispatcherService(admin_settings(broker), reactor_thread.reactor, known_clients=CLIENTS,
                                validate=hub_validator)
    reactor_thread.call(service.start)
    yield service
    reactor_thread.call(service.stop)
