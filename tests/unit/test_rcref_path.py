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


# ---- the RC-REF body read without the strict reader's hooks (issue 18, fourth pass) ----------------------------

_STRINGS = st.one_of(st.text(max_size=30), st.sampled_from(["", '"', "\\", "\x00", "\x1f", "\x7f", "é", "\u2028",
                                                            "\ufeff", "fr.health.samu440", "hubex:x", "Ack"]))


def _reference_message(values: list[str]) -> dict:
    v = iter(values)
    return {"distributionID": next(v), "senderID": next(v), "dateTimeSent": next(v), "dateTimeExpires": next(v),
            "distributionStatus": next(v), "distributionKind": next(v),
            "descriptor": {"language": next(v), "explicitAddress": {"explicitAddressScheme": next(v),
                                                                    "explicitAddressValue": next(v)}},
            "content": [{"jsonContent": {"embeddedJsonContent": {"message": {
                "messageId": next(v), "sender": {"name": next(v), "URI": next(v)}, "sentAt": next(v),
                "kind": next(v), "status": next(v), "recipient": [{"name": next(v), "URI": next(v)}],
                "reference": {"distributionID": next(v)}}}}}]}


def _strict(body: bytes) -> object:
    from bridge.refdata.hub_bodies import decode_hub_body

    try:
        return decode_hub_body(body, "application/json")
    except Exception as exc:  # noqa: BLE001 - any refusal: the plain reader must not have taken the body
        return exc


_EDITS = st.sampled_from(["none", "space", "duplicate", "bom", "bad-utf8", "number", "extra", "escape", "reorder",
                          "two-recipients", "step", "trailing", "truncate", "surrogate"])


def _edited(body: bytes, edit: str) -> bytes:
    if edit == "space":
        return body.replace(b'":', b'": ', 1)
    if edit == "duplicate":
        return body.replace(b'{"distributionID":', b'{"distributionID":"x","distributionID":', 1)
    if edit == "bom":
        return b"\xef\xbb\xbf" + body
    if edit == "bad-utf8":
        return body.replace(b'"senderID":"', b'"senderID":"\xff', 1)
    if edit == "surrogate":
        return body.replace(b'"senderID":"', b'"senderID":"\xed\xa0\x80', 1)
    if edit == "number":
        return body.replace(b'"reference":{"distributionID":', b'"reference":{"distributionID":1e999,"x":', 1)
    if edit == "extra":
        return body.replace(b'"kind":', b'"extra":"x","kind":', 1)
    if edit == "escape":
        return body.replace(b'"senderID":"', b'"senderID":"\\u0041', 1)
    if edit == "reorder":
        return body.replace(b'"distributionStatus"', b'"distributionStatusX"', 1).replace(
            b'"distributionKind"', b'"distributionStatus"', 1).replace(b'"distributionStatusX"', b'"distributionKind"', 1)
    if edit == "two-recipients":
        return body.replace(b'"recipient":[', b'"recipient":[{"name":"a","URI":"b"},', 1)
    if edit == "step":
        return body.replace(b'"reference":{"distributionID":"', b'"reference":{"step":"RECU","distributionID":"', 1)
    if edit == "trailing":
        return body + b" "
    if edit == "truncate":
        return body[:-1]
    return body


@given(st.lists(_STRINGS, min_size=18, max_size=18), _EDITS)
@settings(max_examples=400, deadline=None)
def test_the_plain_reference_reader_gives_the_strict_readers_document_or_none(values, edit):
    """Any string values (quotes, backslashes, control characters, BOMs, accents) and any edit of the layout
    (spacing, a duplicate key, a BOM, bad UTF-8, a number out of bounds, an extra key, an escape, another order,
    two recipients, an optional field, trailing space, truncation): the plain reader returns exactly the strict
    reader's document, or None (the strict reader then reads it, or refuses it as before)."""
    body = _edited(encode_hub_body(_reference_message(values)), edit)
    plain = service_module._plain_reference(body, "application/json")
    if plain is not None:
        assert plain == _strict(body)
        assert json.dumps(plain, ensure_ascii=False) == json.dumps(_strict(body), ensure_ascii=False)  # key order
    elif edit == "none" and all(not set(v) & set('"\\' + "".join(map(chr, range(32)))) for v in values):
        raise AssertionError("a plain compact RC-REF must be read the plain way")


def test_every_rcref_of_the_rig_is_read_the_plain_way_and_unwraps_the_same(tmp_path, monkeypatch):
    """The RC-REFs the NexSIS simulator writes take the plain reader, and what unwrap() makes of its document is
    what it makes of the strict reader's."""
    from bridge.core.edxl import unwrap
    from bridge.refdata.hub_bodies import decode_hub_body

    bodies = [encode_hub_body(wrap("reference", make_reference(f"{SAMU}_{uuid.uuid4()}"), sender_id=SDIS,
                                   recipient_id=SAMU, now=NOW, message_uuid=uuid.uuid4(), kind="Ack"))
              for _ in range(20)]
    rig = Rig(tmp_path, peer_listening=False)
    try:
        strict: list[bytes] = []
        monkeypatch.setattr(rig.service.translator, "decode_hub", lambda b, t: strict.append(b) or decode_hub_body(b, t))
        for body in bodies:
            assert rig.service._read(body, "application/json") == unwrap(decode_hub_body(body))
        assert strict == []
        assert rig.service._read(b" " + bodies[0], "application/json") == unwrap(decode_hub_body(bodies[0]))
        assert strict == [b" " + bodies[0]]
    finally:
        rig.close()
