"""EDXL-DE wrap/unwrap: round-trips, official envelope schema, the Hub's failing samples."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.core.edxl import MESSAGE_POINTER, Unwrapped, make_error, make_reference, unwrap, wrap
from bridge.core.errors import HubErrorCode, InboundError, OutboundError
from tests.conftest import reference_dir
from tests.unit.test_models import assert_same_canonical, load_canonical

NOW = datetime(2024, 5, 18, 18, 15, 0, 987654, tzinfo=timezone(timedelta(hours=2)))
UUID_TEXT = "2608323d-507d-4cbf-bf74-52007f8124ea"
SAMU, NEXSIS = "fr.health.samu440", "fr.fire.nexsis.sdis44"


def _wrap(name: str, payload, **extra) -> dict:
    return wrap(name, payload, sender_id=SAMU, recipient_id=NEXSIS, now=NOW, message_uuid=UUID_TEXT, **extra)


def _examples() -> list[Path]:
    root = reference_dir()
    kinds = ("RC-EDA", "EMSI", "RC-REF", "RS-ERROR")
    return [] if root is None else sorted(p for kind in kinds for p in (root / "examples" / kind).glob("*.json"))


def _failing_envelopes() -> list[Path]:
    root = reference_dir()
    return [] if root is None else sorted((root / "failing" / "EDXL-DE").glob("*.json"))


@pytest.fixture(scope="module")
def envelope_validator():
    """A jsonschema validator of EDXL-DE-full with every corpus schema registered by file name."""
    root = reference_dir()
    if root is None:
        pytest.skip("official Hub Santé corpus not found: needed for the envelope JSON Schema")
    from jsonschema import Draft7Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    def load(path: Path) -> dict:
        schema = json.loads(path.read_text(encoding="utf-8"))
        schema.pop("$id", None)  # every upstream file shares one $id; address them by file name instead
        return schema

    files = sorted((root / "json-schema").glob("*.schema.json"))
    registry = Registry().with_resources(
        (path.name, Resource.from_contents(load(path), default_specification=DRAFT7)) for path in files
    )
    return Draft7Validator(load(root / "json-schema" / "EDXL-DE-full.schema.json"), registry=registry)


@pytest.mark.parametrize("path", _examples(), ids=lambda p: p.name)
def test_wrap_unwrap_round_trip(path: Path, envelope_validator) -> None:
    """Each example payload wraps into a schema-valid envelope and unwraps to the same payload."""
    (name, payload), = load_canonical(path).items()
    message = _wrap(name, payload)
    errors = [error.message for error in envelope_validator.iter_errors(message)]
    assert errors == []
    back = unwrap(message)
    assert back.payload_name == name
    assert_same_canonical(back.payload, payload)


def test_official_schema_check_can_fail(envelope_validator) -> None:
    """The schema fixture really validates: a wrapped message without recipient is refused."""
    message = _wrap("reference", {"distributionID": "x_1"})
    del message["content"][0]["jsonContent"]["embeddedJsonContent"]["message"]["recipient"]
    assert list(envelope_validator.iter_errors(message)) != []


def test_wrap_fills_the_envelope_as_the_hub_checks_it() -> None:
    """distributionID = sender_UUID, messageId = distributionID, hubex addresses, expiry = now + ttl."""
    message = _wrap("reference", make_reference("x_1"), kind="Ack", ttl=timedelta(hours=2))
    body = message["content"][0]["jsonContent"]["embeddedJsonContent"]["message"]
    assert message["distributionID"] == f"{SAMU}_{UUID_TEXT}" == body["messageId"]
    assert (message["dateTimeSent"], message["dateTimeExpires"]) == ("2024-05-18T18:15:00+02:00",
                                                                       "2024-05-18T20:15:00+02:00")
    assert message["descriptor"]["explicitAddress"] == {"explicitAddressScheme": "hubex",
                                                        "explicitAddressValue": NEXSIS}
    assert body["sender"]["URI"] == f"hubex:{SAMU}" and body["recipient"][0]["URI"] == f"hubex:{NEXSIS}"
    assert (message["distributionKind"], body["kind"]) == ("Ack", "Ack")


def test_unwrap_returns_the_envelope_facts() -> None:
    """unwrap gives IDs, kind, status and aware datetimes of the message."""
    parts = unwrap(wrap("reference", {"distributionID": "x_1"}, sender_id=SAMU, recipient_id=NEXSIS, now=NOW,
                        message_uuid=UUID(UUID_TEXT), kind="Ack", status="Exercise"))
    assert (parts.distribution_id, parts.sender_id, parts.recipient_id) == (f"{SAMU}_{UUID_TEXT}", SAMU, NEXSIS)
    assert (parts.kind, parts.status) == ("Ack", "Exercise")
    assert parts.sent_at == NOW.replace(microsecond=0) and parts.expires_at - parts.sent_at == timedelta(days=1)
    assert parts.header is not None and parts.header.message_id == parts.distribution_id


def test_wrap_refuses_invalid_payload_naming_the_field() -> None:
    """An invalid payload is our own fault: OutboundError at the field's pointer."""
    with pytest.raises(OutboundError) as caught:
        _wrap("reference", {"distributionID": "x", "step": "LU"})
    assert [issue.path for issue in caught.value.issues] == ["/reference/step"]


@pytest.mark.parametrize(("change", "path"), [
    ({"now": NOW.replace(tzinfo=None)}, "/dateTimeSent"),
    ({"message_uuid": "not-a-uuid"}, "/distributionID"),
    ({"kind": "Whatever"}, f"{MESSAGE_POINTER}/kind"),
])
def test_wrap_refuses_bad_arguments(change: dict, path: str) -> None:
    """Naive clock, non-UUID ID and unknown kind are refused with the field they would break."""
    arguments = {"sender_id": SAMU, "recipient_id": NEXSIS, "now": NOW, "message_uuid": UUID_TEXT, **change}
    with pytest.raises(OutboundError) as caught:
        wrap("reference", {"distributionID": "x"}, **arguments)
    assert path in [issue.path for issue in caught.value.issues]


def test_wrap_accepts_models_and_unmodelled_payloads() -> None:
    """A model instance is dumped; a payload type without a model is carried as given."""
    from bridge.core.models import Reference

    by_model = _wrap("reference", Reference(distribution_id="x_1"))
    other = unwrap(_wrap("createCaseHealth", {"anything": Decimal("1.50")}))
    assert by_model["content"][0]["jsonContent"]["embeddedJsonContent"]["message"]["reference"] == {
        "distributionID": "x_1"}
    assert other.payload == {"anything": Decimal("1.50")} and other.payload_model is None


def test_make_error_builds_a_valid_rs_error(envelope_validator) -> None:
    """make_error gives code number and name, cause, source and reference, in a schema-valid message."""
    source = _wrap("reference", {"distributionID": "x_1"})
    error = make_error(HubErrorCode.UNKNOWN_SENDER, "who is this?", source, source["distributionID"])
    assert error["errorCode"] == {"statusCode": 703, "statusString": "UNKNOWN_SENDER"}
    assert list(error) == ["errorCode", "errorCause", "sourceMessage", "referencedDistributionID"]
    message = _wrap("error", error, kind="Error")
    assert list(envelope_validator.iter_errors(message)) == []
    assert unwrap(message).payload["sourceMessage"] == source


def test_error_travels_without_header_unless_asked(envelope_validator) -> None:
    """RS-ERROR is wrapped header-less (the only form the XSDs accept); both forms unwrap."""
    error = make_error(HubErrorCode.INVALID_MESSAGE, "bad", None, "a_1")
    bare = _wrap("error", error, kind="Error")
    headed = _wrap("error", error, kind="Error", with_header=True)
    assert list(bare["content"][0]["jsonContent"]["embeddedJsonContent"]["message"]) == ["error"]
    assert "messageId" in headed["content"][0]["jsonContent"]["embeddedJsonContent"]["message"]
    assert list(envelope_validator.iter_errors(bare)) == []
    assert unwrap(bare).header is None and unwrap(headed).header is not None
    assert unwrap(bare).payload["errorCause"] == "bad"


def test_make_reference_options() -> None:
    """RC-REF carries the acknowledged ID and, when given, refusal, error ID and step."""
    assert make_reference("a_1") == {"distributionID": "a_1"}
    assert make_reference("a_1", refused=True, error_distribution_id="b_2", step="ERREUR") == {
        "distributionID": "a_1", "refused": True, "errorDistributionID": "b_2", "step": "ERREUR"}


def test_unwrap_lists_payload_problems_with_full_pointers() -> None:
    """A bad payload inside a good envelope is reported under the message pointer."""
    message = _wrap("reference", {"distributionID": "x"})
    message["content"][0]["jsonContent"]["embeddedJsonContent"]["message"]["reference"]["bogus"] = 1
    with pytest.raises(InboundError) as caught:
        unwrap(message)
    assert [issue.path for issue in caught.value.issues] == [f"{MESSAGE_POINTER}/reference/bogus"]
    assert caught.value.hub_code == HubErrorCode.INVALID_MESSAGE


def _hub_paths(errors_text: str) -> set[str]:
    """Envelope and header paths the official validator reported, as our JSON pointers."""
    paths, section = set(), None
    for line in errors_text.splitlines():
        if line.startswith("Issues found on the envelope"):
            section = ""
        elif line.startswith("Issues found on") and line.rstrip(": ").endswith("header"):
            section = MESSAGE_POINTER
        elif line.startswith("Issues found on"):
            section = None  # payload types we do not model (technical...)
        elif section is not None and (match := re.match(r"\s*- \$?\.?([\w.]+):", line)):
            paths.add(section + "".join(f"/{part}" for part in match[1].split(".")))
    return paths


@pytest.mark.parametrize("path", _failing_envelopes(), ids=lambda p: p.name)
def test_failing_samples_are_refused_naming_what_the_hub_names(path: Path) -> None:
    """Every official failing envelope raises InboundError covering each envelope/header path the Hub reports."""
    with pytest.raises(InboundError) as caught:
        unwrap(load_canonical(path))
    ours = {issue.path for issue in caught.value.issues}
    assert _hub_paths(Path(f"{path}.errors").read_text(encoding="utf-8")) <= ours


# --- unwrap never crashes: any JSON-shaped input gives an Unwrapped or an InboundError

KEYS = st.sampled_from(["distributionID", "senderID", "dateTimeSent", "content", "jsonContent", "message",
                        "embeddedJsonContent", "descriptor", "createCase", "reference", "error", "emsi",
                        "messageId", "recipient", "x"])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20),
                    st.decimals(allow_nan=False, allow_infinity=False), st.just(Decimal("NaN")))
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                            st.dictionaries(KEYS, inner, max_size=4)), max_leaves=20)


def _message(body) -> dict:
    return {"distributionID": "a_1", "senderID": "a", "dateTimeSent": "2024-05-18T18:15:00+02:00",
            "dateTimeExpires": "2024-05-19T18:15:00+02:00", "distributionStatus": "Actual",
            "distributionKind": "Report",
            "descriptor": {"language": "fr-FR", "explicitAddress": {"explicitAddressScheme": "hubex",
                                                                    "explicitAddressValue": "b"}},
            "content": [{"jsonContent": {"embeddedJsonContent": {"message": body}}}]}


@settings(max_examples=150, deadline=None)
@given(JSON_VALUES)
def test_unwrap_of_arbitrary_document_is_an_answer_or_an_inbound_error(document) -> None:
    """Whatever the top-level document, unwrap answers or raises InboundError, never anything else."""
    try:
        assert isinstance(unwrap(document), Unwrapped)
    except InboundError as exc:
        assert exc.issues


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(KEYS, JSON_VALUES, max_size=5))
def test_unwrap_of_arbitrary_message_body_is_an_answer_or_an_inbound_error(body) -> None:
    """A valid envelope around any message body: answer or InboundError with at least one issue."""
    try:
        assert isinstance(unwrap(_message(body)), Unwrapped)
    except InboundError as exc:
        assert exc.issues


def test_unmodelled_payload_must_still_be_an_object() -> None:
    """A payload type without a model is carried through only when it is a JSON object."""
    message = _wrap("createCaseHealth", {"x": 1})
    message["content"][0]["jsonContent"]["embeddedJsonContent"]["message"]["createCaseHealth"] = ["not", "object"]
    with pytest.raises(InboundError) as caught:
        unwrap(message)
    assert [issue.code for issue in caught.value.issues] == ["wrong-type"]


def test_unwrap_keeps_the_payload_as_received() -> None:
    """A valid date written '-00:00' (the RC-DE convention for UTC) reaches the caller unchanged."""
    message = _wrap("emsi", {"CONTEXT": {"ID": "1", "MODE": "ACTUAL", "MSGTYPE": "ALERT"}, "EVENT": {"ID": "e"}})
    emsi = message["content"][0]["jsonContent"]["embeddedJsonContent"]["message"]["emsi"]
    emsi["CONTEXT"]["CREATION"] = "2024-05-18T16:15:00-00:00"
    parts = unwrap(message)
    assert parts.payload["CONTEXT"]["CREATION"] == "2024-05-18T16:15:00-00:00"
    assert parts.payload_model is not None


class TestTemplateEnvelope:
    """wrap() fills a once-validated envelope with each message's id and dates: same dict as the models build."""

    @given(uuid=st.uuids(), when=st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9998, 1, 1),
                                              timezones=st.sampled_from([UTC, timezone(timedelta(hours=2)),
                                                                         timezone(timedelta(hours=-9, minutes=-30))])),
           kind=st.sampled_from(["Report", "Update", "Ack", "Error"]), header=st.sampled_from([None, True, False]),
           sender=st.sampled_from([SAMU, "fr.health.samu975", "fr.fire.nexsis.sdis44"]),
           names=st.sampled_from([(None, None), ("SAMU 44", "SDIS 44")]), ttl=st.integers(1, 10 ** 6))
    @settings(max_examples=150, deadline=None)
    def test_same_message_as_the_validated_path(self, uuid, when, kind, header, sender, names, ttl):
        from bridge.core.edxl import _wrap_validated, distribution_id_for

        payload = make_reference(f"{NEXSIS}_{UUID_TEXT}")
        fast = wrap("reference", payload, sender_id=sender, recipient_id=NEXSIS, now=when, message_uuid=uuid,
                    kind=kind, ttl=timedelta(seconds=ttl), sender_name=names[0], recipient_name=names[1],
                    with_header=header)
        slow = _wrap_validated("reference", payload, distribution_id_for(sender, uuid), sender, NEXSIS,
                               when.replace(microsecond=0), kind, "Actual", timedelta(seconds=ttl), names[0],
                               names[1], "fr-FR", header is not False)
        assert json.dumps(fast) == json.dumps(slow)

    def test_a_filled_template_is_not_shared_between_messages(self):
        first = _wrap("reference", make_reference(f"{NEXSIS}_{UUID_TEXT}"))
        first["descriptor"]["explicitAddress"]["explicitAddressValue"] = "changed"
        first["content"][0]["jsonContent"]["embeddedJsonContent"]["message"]["recipient"][0]["URI"] = "changed"
        second = _wrap("reference", make_reference(f"{NEXSIS}_{UUID_TEXT}"))
        assert second["descriptor"]["explicitAddress"]["explicitAddressValue"] == NEXSIS
        assert second["content"][0]["jsonContent"]["embeddedJsonContent"]["message"]["recipient"][0]["URI"] == \
            f"hubex:{NEXSIS}"

    @pytest.mark.parametrize(("field", "value"), [("kind", "Gossip"), ("status", "Maybe")])
    def test_what_the_models_refuse_is_still_refused_on_every_call(self, field, value):
        for _ in range(2):  # the second call must not find a cached template
            with pytest.raises(OutboundError):
                _wrap("reference", make_reference(f"{NEXSIS}_{UUID_TEXT}"), **{field: value})
