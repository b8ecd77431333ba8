"""Hub client settings and the reconnect backoff schedule (no sockets)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bridge.edges.amqp.factory import backoff_delay
from bridge.edges.amqp.settings import HubClientSettings


def test_backoff_grows_is_capped_and_jittered():
    """Delays double from the initial value, stop at the cap, and stay within [50 %, 100 %] of it."""
    assert [backoff_delay(n, 1.0, 8.0, rng=lambda: 1.0) for n in range(1, 7)] == [1, 2, 4, 8, 8, 8]
    assert backoff_delay(3, 1.0, 8.0, rng=lambda: 0.0) == 2.0


def test_tls_settings_need_certificate_files(tmp_path):
    """EXTERNAL over TLS without the CA/cert/key paths is a configuration error naming them."""
    with pytest.raises(ValidationError, match="ca_cert, cert and key"):
        HubClientSettings(client_id="fr.health.samu440")


def test_settings_are_frozen(tmp_path):
    """Settings cannot be changed after validation."""
    settings = HubClientSettings(client_id="fr.health.samu440", ca_cert=tmp_path / "ca.crt",
                                 cert=tmp_path / "c.crt", key=tmp_path / "c.key")
    assert settings.content_type == "application/json" and settings.exchange == "hubsante"
    with pytest.raises(ValidationError):
        settings.prefetch = 5


def test_session_gives_up_after_the_attempts_bound_and_stop_cancels_retry(monkeypatch):
    """With reconnect_attempts=1 the session tries twice, then fails start(); stop() cancels a pending retry."""
    from twisted.internet import defer
    from twisted.internet.task import Clock

    from bridge.edges.amqp import factory
    from bridge.edges.amqp.errors import ConnectionFailed

    attempts = []

    def refuse(_settings, _reactor):
        attempts.append(1)
        return defer.fail(ConnectionFailed("refused"))

    settings = HubClientSettings(client_id="fr.health.samu440", ca_cert="ca", cert="c", key="k",
                                 reconnect_attempts=1, reconnect_initial=1.0)
    clock = Clock()
    monkeypatch.setattr(factory, "connect", refuse)
    session = factory.ReconnectingSession(settings, clock, lambda c: None, rng=lambda: 1.0)
    failures = []
    session.start().addErrback(failures.append)
    assert session.state == "disconnected" and len(attempts) == 1
    clock.advance(1.0)
    assert len(attempts) == 2 and session.state == "failed" and failures[0].check(ConnectionFailed)
    other = factory.ReconnectingSession(settings.model_copy(update={"reconnect_attempts": None}), clock,
                                        lambda c: None)
    other.start().addErrback(lambda f: None)
    other.stop()
    clock.advance(120)
    assert len(attempts) == 3 and other.state == "stopped"
