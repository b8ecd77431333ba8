"""Start-up refusals (key permissions, TLS) and log hygiene processors."""

from __future__ import annotations

import io
import json

import pytest
import structlog
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.runtime.security import (
    MASK,
    WITHHELD,
    InsecureSetup,
    check_private_key_permissions,
    check_tls_required,
    is_loopback_host,
    limit_health_data,
    redact_secrets,
)


class TestKeyPermissions:
    def test_private_key_accepted(self, tmp_path):
        """A 0600 key passes."""
        key = tmp_path / "client.key"
        key.write_text("k")
        key.chmod(0o600)
        check_private_key_permissions(key)
        assert oct(key.stat().st_mode & 0o777) == "0o600"

    @pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660, 0o602])
    def test_group_or_other_access_refused(self, tmp_path, mode):
        """Any group/other bit is refused, naming the path, the mode and the chmod fix."""
        key = tmp_path / "client.key"
        key.write_text("k")
        key.chmod(mode)
        with pytest.raises(InsecureSetup) as caught:
            check_private_key_permissions(key, key="hub.key_file")
        text = str(caught.value)
        assert str(key) in text and f"{mode:04o}" in text and f"chmod 600 {key}" in text
        assert caught.value.issues[0].path == "hub.key_file"

    def test_missing_key_refused(self, tmp_path):
        """A missing key file is named."""
        with pytest.raises(InsecureSetup, match="does not exist"):
            check_private_key_permissions(tmp_path / "absent.key")


class TestTls:
    @pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.0.0.53", "::1", "[::1]", "amqp://localhost:5672/"])
    def test_plain_amqp_allowed_on_loopback(self, host):
        """Loopback brokers may be reached without TLS."""
        check_tls_required(host, tls=False)
        assert is_loopback_host(host.split("//")[-1].split(":")[0] if "//" in host else host)

    @pytest.mark.parametrize("host", ["hub.esante.gouv.fr", "10.0.0.5", "amqp://user@hub.example:5672/%2f"])
    def test_plain_amqp_refused_elsewhere(self, host):
        """A remote broker without TLS is refused with the key to fix."""
        with pytest.raises(InsecureSetup, match="hub.tls"):
            check_tls_required(host, tls=False)

    def test_tls_or_amqps_accepted_remotely(self):
        """TLS flag or an amqps URL satisfies the rule."""
        check_tls_required("hub.example", tls=True)
        check_tls_required("amqps://hub.example:5671/", tls=False)
        assert not is_loopback_host("hub.example")


class TestRedactSecrets:
    def test_secret_keys_masked_routing_key_kept(self):
        """password/token/authorization values are masked; routing_key and key_file are not secrets."""
        event = redact_secrets(None, "info", {
            "event": "x", "password": "hunter2", "replay_token": "t0k", "Authorization": "Bearer abc",
            "routing_key": "fr.health.samu440", "key_file": "/etc/bridge/client.key",
        })
        assert (event["password"], event["replay_token"], event["Authorization"]) == (MASK, MASK, MASK)
        assert event["routing_key"] == "fr.health.samu440" and event["key_file"] == "/etc/bridge/client.key"

    def test_credentials_inside_strings_masked(self):
        """URL passwords, bearer tokens and PEM keys are scrubbed from any string, nested too."""
        event = redact_secrets(None, "info", {
            "event": "connecting to amqps://bridge:s3cret@hub:5671/",
            "headers": {"note": "Bearer abc.def", "nested": {"secret": "x"}},
            "pem": "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----",
            "lines": ["-----BEGIN RSA PRIVATE KEY-----\nAAA\n-----END RSA PRIVATE KEY-----"],
        })
        dumped = json.dumps(event)
        assert "s3cret" not in dumped and "abc.def" not in dumped and "MIIE" not in dumped and "AAA" not in dumped
        assert "amqps://bridge:***@hub" in event["event"] and event["headers"]["nested"]["secret"] == MASK


class TestLimitHealthData:
    def test_only_ids_and_operational_keys_kept(self):
        """Payloads and patient fields are withheld; IDs, state and codes stay."""
        event = limit_health_data(False)(None, "info", {
            "event": "received", "distribution_id": "d1", "case_id": "K", "state": "received", "code": 300,
            "body": "<patient>Dupont</patient>", "victims": "2 adults", "whatever_new": "x",
        })
        assert (event["distribution_id"], event["case_id"], event["state"], event["code"]) == ("d1", "K", "received", 300)
        assert event["body"] == event["victims"] == event["whatever_new"] == WITHHELD

    def test_debug_flag_releases_debug_lines_only(self):
        """With debug on, debug lines keep the payload but info lines still do not."""
        limiter = limit_health_data(True)
        assert limiter(None, "debug", {"event": "x", "body": "Dupont"})["body"] == "Dupont"
        assert limiter(None, "info", {"event": "x", "body": "Dupont"})["body"] == WITHHELD

    def test_wired_into_bridge_logging(self):
        """bridge.runtime.logging installs these processors: a JSON line has no secret and no payload."""
        from bridge.runtime.logging import configure_logging

        stream = io.StringIO()
        configure_logging("json", "INFO", stream=stream)
        structlog.get_logger().info("published", distribution_id="d1", body="Dupont", password="hunter2")
        line = json.loads(stream.getvalue())
        assert line["distribution_id"] == "d1" and "Dupont" not in stream.getvalue() and "hunter2" not in stream.getvalue()
        structlog.reset_defaults()


_FRAGMENTS = ["://", "amqps://u:p@h", "Bearer ", "bAsIc ", "Baſic ", "beareR\\t", "ı", "İ", "K", "ſ",
              "-----BEGIN RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----", "abc", " ", "1+a.b-", "@", ":", "/"]


@given(st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.text(max_size=8)), max_size=12))
@settings(max_examples=400, deadline=None)
def test_scrubbing_skips_values_without_a_credential_hint_and_changes_nothing_else(parts):
    """The quick pre-check never lets through what the three patterns would have masked."""
    from bridge.runtime import security

    text = "".join(parts)
    reference = security._URL_CREDENTIALS.sub(security._mask_url, text)
    reference = security._BEARER.sub(lambda m: f"{m[1]} {security.MASK}", reference)
    reference = security._PEM_KEY.sub(f"-----PRIVATE KEY {security.MASK}-----", reference)
    assert security._scrub_text(text) == reference


def test_secret_key_verdicts_are_the_same_for_long_and_cached_names():
    from bridge.runtime.security import _is_secret_key

    for name in ("api_token", "routing_key", "Authorization", "x" * 100 + "_secret", "y" * 100 + "_key", "pem"):
        assert _is_secret_key(name) == _is_secret_key(name)  # cached on the second call
    assert _is_secret_key("x" * 100 + "_secret") and not _is_secret_key("y" * 100 + "_key")
    assert _is_secret_key("api_token") and not _is_secret_key("routing_key")


# -- the cheaper hygiene (issue 18): same verdicts as before, less work per line ---------------------------------
def _old_redact_value(value):
    """redact_secrets' value rule before issue 18 (one value at a time): the reference."""
    from bridge.runtime import security

    if isinstance(value, str):
        return security.cut_long(security._scrub_text(value))
    if isinstance(value, (bytes, bytearray)):
        return security.cut_long(value)
    if isinstance(value, dict):
        return {k: (MASK if isinstance(k, str) and security._secret_name(k) else _old_redact_value(v))
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_old_redact_value(v) for v in value)
    return value


def _old_redact_secrets(event):
    from bridge.runtime import security

    return {name: MASK if security._secret_name(name) else _old_redact_value(value) for name, value in event.items()}


_ASCII_HINTY = st.text(alphabet="bBeEaArRsSiIcCgGnN:/- .-_0123456789", max_size=40)
_KEYS = st.sampled_from(["event", "distribution_id", "case_id", "password", "replay_token", "routing_key", "body",
                         "note", "victims", "api_key", "attempt", "error", "reason", "headers", "Authorization",
                         "x" * 70 + "_secret", "_private", "queue_count", "whatever"])
_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
    st.sampled_from(["amqps://bridge:s3cret@hub:5671/", "Bearer abc.def", "-----BEGIN PRIVATE KEY-----\nA\n",
                     "baſic x", "fr.health.samu440_0c16439b", "x" * 3000, "basic" + "y" * 2100 + " amqp://u:p@h"]),
    _ASCII_HINTY, st.text(max_size=20), st.binary(max_size=20),
    st.dictionaries(st.sampled_from(["secret", "note", "url"]), st.sampled_from(["Bearer t", "plain"]), max_size=2),
    st.lists(st.sampled_from(["Bearer t", "x" * 2100, "ok"]), max_size=3),
)


@given(st.one_of(_ASCII_HINTY, st.text(max_size=30),
                 st.lists(st.sampled_from(_FRAGMENTS), max_size=6).map("".join)))
@settings(max_examples=600, deadline=None)
def test_credential_hint_shortcut_answers_as_the_regex(text):
    """The ASCII shortcut (lowered words) finds a hint exactly when the case-insensitive regex does."""
    from bridge.runtime import security

    assert security._has_credential_hint(text) == (security._CREDENTIAL_HINT.search(text) is not None)


@given(st.dictionaries(_KEYS, _VALUES, max_size=8))
@settings(max_examples=400, deadline=None)
def test_redact_secrets_gives_what_the_value_by_value_version_gave(event):
    """One pass and one hint search per line: every line comes out as the per-value processor wrote it."""
    assert redact_secrets(None, "info", dict(event)) == _old_redact_secrets(event)


@given(st.dictionaries(_KEYS, _VALUES, max_size=8), st.booleans(), st.sampled_from(["info", "debug", "warning"]))
@settings(max_examples=400, deadline=None)
def test_one_pass_hygiene_is_redaction_then_health_limit(event, debug, method):
    """LogHygiene (what the bridge installs) = redact_secrets then LimitHealthData, on any line, at any level."""
    from bridge.runtime.logging import OPERATIONAL_KEYS
    from bridge.runtime.security import LimitHealthData, LogHygiene

    expected = LimitHealthData(debug, extra_safe_keys=OPERATIONAL_KEYS)(
        None, method, redact_secrets(None, method, dict(event)))
    hygiene = LogHygiene(debug, extra_safe_keys=OPERATIONAL_KEYS)
    assert hygiene(None, method, dict(event)) == expected
    assert hygiene(None, method, dict(event)) == expected  # the line's shape now cached


def test_withheld_value_is_not_scrubbed_first(monkeypatch):
    """A 200 kB body under a withheld key is replaced, not scrubbed (the scrub is what costs on a big value)."""
    from bridge.runtime import security

    scrubbed: list[int] = []
    real = security._scrub_text
    monkeypatch.setattr(security, "_scrub_text", lambda text: scrubbed.append(len(text)) or real(text))
    line = security.LogHygiene()(None, "info", {"event": "x", "body": "Bearer " + "a" * 200_000, "error": "Bearer t"})
    assert line == {"event": "x", "body": WITHHELD, "error": f"Bearer {MASK}"}
    assert scrubbed and max(scrubbed) < 100  # the short values were, the 200 kB body was not


def test_shape_caches_stay_bounded():
    """A peer choosing key names (thousands of shapes, long names) cannot grow the verdict caches past their cap."""
    from bridge.runtime import security

    hygiene = security.LogHygiene()
    for n in range(3 * security._MAX_CACHED_KEYS):
        hygiene(None, "info", {"event": "x", f"k{n}": "v", "y" * (n % 100): 1})
        redact_secrets(None, "info", {f"key{n}": "v"})
    assert len(hygiene._shapes) <= security._MAX_CACHED_KEYS
    assert len(security._SECRET_VERDICTS) <= security._MAX_CACHED_KEYS
