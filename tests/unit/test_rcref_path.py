"""The RC-REF check reads the recipient of our stored message from its envelope, without parsing it (issue 18)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.app import service as service_module
from bridge.app.service import _built_recipient
from bridge.core.edxl import make_reference, wrap
from bridge.refdata.hub_bodies import encode_hub_body
from bridge.runtime.demo import demo_frame
from bridge.testing.hostile_cases import hub_delivery
from bridge.testing.rig import SAMU, SDIS, Rig

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def _recipient(body: bytes) -> str:
    return json.loads(body)["descriptor"]["explicitAddress"]["explicitAddressValue"]


def test_the_recipient_of_every_body_the_service_built(tmp_path):
    """createCase and EMSI bodies as stored: the pattern gives what parsing the JSON gives."""
    rig = Rig(tmp_path, peer_listening=False)
    try:
        for n in range(1, 6):
            rig.settled(rig.service.on_legacy_frame(demo_frame(n)))
        bodies = [m.translated for m in rig.store.recent(50) if m.direction.value == "out"]
    finally:
        rig.close()
    assert len(bodies) == 10
    for body in bodies:
        assert _built_recipient(body, "application/json") == _recipient(body) == SDIS


@given(st.text(min_size=1, max_size=80), st.text(max_size=80))
@settings(max_examples=300, deadline=None)
def test_never_a_wrong_recipient_whatever_the_text(recipient, planted):
    """Any recipient text (quotes, escapes, accents) and any text planted in the payload: the envelope's value
    or None (the caller then reads the message the full way), never something else."""
    body = encode_hub_body({
        "distributionID": "a", "senderID": "b", "dateTimeSent": "c", "dateTimeExpires": "d",
        "distributionStatus": "Actual", "distributionKind": "Report",
        "descriptor": {"language": "fr-FR", "explicitAddress": {"explicitAddressScheme": "hubex",
                                                                "explicitAddressValue": recipient}},
        "content": [{"jsonContent": {"embeddedJsonContent": {"message": {
            "customContent": {"explicitAddressValue": planted, "x": f'"explicitAddressValue":"{planted}"'}}}}}]})
    assert _built_recipient(body, "application/json") in (recipient, None)


def test_a_body_laid_out_otherwise_is_read_the_full_way():
    """Content before the descriptor (not how the bridge writes): no guess from the payload's text."""
    body = (b'{"content":[{"x":"\\"explicitAddressValue\\":\\"evil\\""}],"descriptor":{"language":"fr-FR",'
            b'"explicitAddress":{"explicitAddressScheme":"hubex","explicitAddressValue":"fr.fire.x"}}}')
    assert _built_recipient(body, "application/json") is None
    assert _built_recipient(b"<xml/>", "application/xml") is None


def test_the_rcref_check_parses_no_json_of_our_stored_message(tmp_path, monkeypatch):
    """The stored body is ~2 kB of JSON: the check finds its recipient by one anchored pattern, no json.loads."""
    rig = Rig(tmp_path, peer_listening=False)
    try:
        rig.settled(rig.service.on_legacy_frame(demo_frame(7, assistance=False)))
        rig.run(0.5)
        [ours] = [m for m in rig.store.recent(10) if m.direction.value == "out"]
        ref = wrap("reference", make_reference(ours.distribution_id), sender_id=SDIS, recipient_id=SAMU, now=NOW,
                   message_uuid=uuid.uuid4(), kind="Ack")
        received = rig.service._read(encode_hub_body(ref), "application/json")
        parsed: list[object] = []
        real_loads = json.loads
        monkeypatch.setattr(json, "loads", lambda *a, **k: parsed.append(a) or real_loads(*a, **k))
        monkeypatch.setattr(service_module, "unwrap", lambda *a: parsed.append(a) or None)
        assert rig.service._ack_problem(received) is None
        assert parsed == []
        monkeypatch.undo()
        rig.settled(rig.service.on_hub_ack(hub_delivery(encode_hub_body(ref), "ack")))
        assert rig.store.find(ours.distribution_id).state.value == "delivered"
    finally:
        rig.close()
