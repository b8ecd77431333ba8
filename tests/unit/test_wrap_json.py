"""wrap_json: the wire bytes of wrap() written with the envelope's JSON made once per addressing (issue 18).

The service's wrap step no longer builds the envelope dict and writes the whole message: it fills in
the UUID, the two dates and the payload's JSON into the envelope's JSON written once. The bytes must be
``dumps_hub(wrap(..., as_built=True))`` exactly, and every refusal the same.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.core import edxl
from bridge.core.edxl import wrap, wrap_json
from bridge.core.errors import BridgeError
from bridge.refdata.hub_bodies import dumps_hub, encode_hub_body
from bridge.runtime.demo import demo_frame
from bridge.testing.rig import SAMU, SDIS, Rig
from tests.unit.test_wrap_as_built import _golden_payloads

NOW = datetime(2024, 5, 18, 16, 30, 12, 345678, tzinfo=timezone(timedelta(hours=2)))


def _outcome(call: Any) -> object:
    try:
        return call()
    except (BridgeError, ValueError, TypeError, OverflowError) as exc:
        return type(exc), getattr(exc, "issues", str(exc))


def _both(name: str, payload: Any, **common: Any) -> tuple[object, object]:
    whole = _outcome(lambda: encode_hub_body(wrap(name, payload, as_built=True, **common)))
    filled = _outcome(lambda: wrap_json(name, payload, dumps=dumps_hub, **common))
    return whole, filled


@pytest.mark.parametrize("kind", ["Report", "Update"])
def test_every_golden_payload_gives_the_same_bytes(kind: str) -> None:
    payloads = _golden_payloads()
    assert {item.name for _, item in payloads} == {"createCase", "emsi", "resourcesInfoCisu"}
    for n, (where, item) in enumerate(payloads):
        whole, filled = _both(item.name, item.payload, sender_id=SAMU, recipient_id=SDIS, now=NOW,
                              message_uuid=uuid.UUID(int=n), kind=kind)
        assert isinstance(whole, bytes) and filled == whole, where


def test_the_service_writes_the_bytes_the_whole_message_gives(tmp_path: Path) -> None:
    """The demo sheets (createCase, EMSI) through the service's own wrap step, against wrap() + encode_hub."""
    rig = Rig(tmp_path)
    try:
        service = rig.service
        for n in range(1, 30):
            for item in service.translator.to_hub(demo_frame(n, assistance=n % 2 == 0)):
                fixed = uuid.UUID(int=n)
                service.new_uuid = lambda fixed=fixed: fixed  # type: ignore[method-assign]
                shared = service._case_shared(item.case_id)
                built = service._wrap(item)
                payload = item.payload
                if item.name == "emsi":
                    payload = {**payload, "CONTEXT": {**payload["CONTEXT"], "ID": f"{SAMU}_{fixed}"}}
                assert built.translated == encode_hub_body(wrap(
                    item.name, payload, sender_id=SAMU, recipient_id=SDIS, now=rig.now(), message_uuid=fixed,
                    kind="Update" if shared else "Report"))
    finally:
        rig.close()


_TEXT = st.one_of(st.text(max_size=12), st.sampled_from(list(edxl._MARKS) + ['"', "\\", "é", "\u2028", "\x00", "_"]))
_JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), _TEXT,
              st.decimals(allow_nan=False, allow_infinity=False, places=4), st.floats(allow_nan=False)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_TEXT, inner, max_size=3)), max_leaves=8)
_NAMES = st.one_of(st.none(), _TEXT)
_OFFSETS = st.one_of(st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m))),
                     st.just(timezone(timedelta(seconds=30))))


@given(payload=st.dictionaries(_TEXT, _JSON, max_size=4),
       name=st.sampled_from(["customContent", "reference", "error", "createCase", "technical"]),
       when=st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)), zone=_OFFSETS,
       ttl=st.sampled_from([timedelta(days=1), timedelta(seconds=1), timedelta(days=3650000)]),
       message_uuid=st.one_of(st.uuids().map(str), st.uuids(), st.uuids().map(lambda u: str(u).upper()),
                              st.just("not-a-uuid")),
       sender=st.sampled_from([SAMU, "fr.health.samu\x00hub-uuid\x00", "", "bad sender"]),
       kind=st.sampled_from(["Report", "Update", "Ack", "Nope"]), names=st.tuples(_NAMES, _NAMES),
       with_header=st.sampled_from([None, True, False]))
@settings(max_examples=400, deadline=None)
def test_any_message_gives_the_same_bytes_or_the_same_refusal(payload: dict[str, Any], name: str, when: datetime,
                                                              zone: timezone, ttl: timedelta, message_uuid: Any,
                                                              sender: str, kind: str, names: tuple[Any, Any],
                                                              with_header: bool | None) -> None:
    """Any payload (Decimals, text holding the template's marks, quotes, escapes), names, dates (offsets with
    seconds, expiry past year 9999), UUID forms, kinds and header choices: same bytes or same refusal."""
    if name == "reference":
        payload = {"distributionID": f"{SAMU}_{uuid.UUID(int=3)}"} if len(payload) % 2 else payload
    whole, filled = _both(name, payload, sender_id=sender, recipient_id=SDIS, now=when.replace(tzinfo=zone),
                          message_uuid=message_uuid, kind=kind, ttl=ttl, sender_name=names[0],
                          recipient_name=names[1], with_header=with_header)
    assert filled == whole


def test_a_naive_now_is_refused_the_same_way() -> None:
    whole, filled = _both("reference", {"distributionID": "x_1"}, sender_id=SAMU, recipient_id=SDIS,
                          now=datetime(2024, 1, 1), message_uuid=uuid.UUID(int=1))
    assert isinstance(whole, tuple) and filled == whole


def test_the_envelope_is_written_once_per_addressing(monkeypatch: pytest.MonkeyPatch) -> None:
    """After the first message of an addressing, each message costs one call of the writer (its payload), no
    envelope model check and, within the same second, no date formatting; a new kind writes its own envelope once."""
    calls: list[Any] = []

    def dumps(value: Any) -> bytes:
        calls.append(value)
        return dumps_hub(value)

    checks: list[str] = []
    validate = edxl.validate_model
    monkeypatch.setattr(edxl, "validate_model", lambda model, *a, **k: checks.append(model.__name__)
                        or validate(model, *a, **k))
    dates: list[datetime] = []
    hub_text = edxl._hub_text
    monkeypatch.setattr(edxl, "_hub_text", lambda value: dates.append(value) or hub_text(value))
    edxl._json_template.cache_clear()
    edxl._dates_text.cache_clear()
    payload = {"distributionID": f"{SDIS}_{uuid.UUID(int=5)}"}
    for n in range(5):
        wrap_json("reference", payload, sender_id=SAMU, recipient_id="fr.health.samu999",
                  now=NOW + timedelta(microseconds=n), message_uuid=uuid.UUID(int=n), dumps=dumps)
        if n == 0:
            assert len(calls) > 1 and len(dates) == 2  # the template (envelope with marks, the marks), two dates
            calls.clear()
            checks.clear()
            dates.clear()
    assert calls == [payload] * 4 and checks == [] and dates == []  # same second: the dates' text is kept too
    calls.clear()
    wrap_json("reference", payload, sender_id=SAMU, recipient_id="fr.health.samu999", now=NOW,
              message_uuid=uuid.UUID(int=9), dumps=dumps, kind="Ack")
    assert len(calls) > 1 and "EdxlDistribution" in checks


def test_a_name_holding_a_mark_writes_the_whole_message() -> None:
    """The template cannot be cut where a name holds one of its marks: the whole message is written instead."""
    common: dict[str, Any] = {"sender_id": SAMU, "recipient_id": SDIS, "now": NOW, "message_uuid": uuid.UUID(int=1),
                              "sender_name": f"SAMU {edxl._MARKS[0]}"}
    assert edxl._json_template(dumps_hub, SAMU, SDIS, "Report", "Actual", "fr-FR", common["sender_name"], None,
                               "reference", True) is None
    payload = {"distributionID": f"{SDIS}_{uuid.UUID(int=5)}", "step": "RECU"}
    assert wrap_json("reference", payload, dumps=dumps_hub, **common) == encode_hub_body(
        wrap("reference", payload, **common))


def test_decimals_keep_their_digits() -> None:
    payload = {"a": Decimal("47.2100"), "b": [Decimal("1E+2"), Decimal("-0.000")]}
    body = wrap_json("customContent", payload, sender_id=SAMU, recipient_id=SDIS, now=NOW.astimezone(UTC),
                     message_uuid=uuid.UUID(int=1), dumps=dumps_hub)
    assert body.endswith(b'"customContent":{"a":47.2100,"b":[1E+2,-0.000]}}}}}]}')


def test_the_same_instant_in_other_zones_keeps_its_own_text() -> None:
    """The dates are written once per second and zone: the same instant in another zone (equal datetimes), or in a
    zone that changes offset before the expiry, still gets its own text."""
    from zoneinfo import ZoneInfo

    paris = datetime(2024, 3, 30, 12, 0, tzinfo=ZoneInfo("Europe/Paris"))  # summer time starts on the way
    instants = [paris, paris.astimezone(timezone(timedelta(hours=1))), paris.astimezone(UTC),
                paris.astimezone(timezone(timedelta(hours=1), "CET")), paris]
    assert len(set(instants)) == 1
    payload = {"distributionID": f"{SDIS}_{uuid.UUID(int=5)}"}
    bodies = set()
    for now in instants:
        common: dict[str, Any] = {"sender_id": SAMU, "recipient_id": SDIS, "now": now, "message_uuid": uuid.UUID(int=1)}
        body = wrap_json("reference", payload, dumps=dumps_hub, **common)
        assert body == encode_hub_body(wrap("reference", payload, **common))
        bodies.add(body)
    assert len(bodies) == 3  # Paris (+01:00, expiring +02:00), +01:00 both, +00:00


def test_a_zone_that_cannot_be_a_cache_key_is_written_all_the_same() -> None:
    from datetime import tzinfo

    class Unhashable(tzinfo):
        __hash__ = None  # type: ignore[assignment]

        def utcoffset(self, dt: datetime | None) -> timedelta:
            return timedelta(hours=2)

        def dst(self, dt: datetime | None) -> timedelta:
            return timedelta(0)

    now = datetime(2024, 5, 18, 18, 15, tzinfo=Unhashable())
    payload = {"distributionID": f"{SDIS}_{uuid.UUID(int=5)}"}
    common: dict[str, Any] = {"sender_id": SAMU, "recipient_id": SDIS, "now": now, "message_uuid": uuid.UUID(int=1)}
    assert wrap_json("reference", payload, dumps=dumps_hub, **common) == encode_hub_body(
        wrap("reference", payload, **common))
