"""The wrap step checks the payloads the bridge built once, by their model, and sends them as built (issue 18).

``wrap(..., as_built=True)`` (the service's path) validates the payload with its model as
the reference path does, but carries the dict itself instead of the model's dump of it. That
is only right if the dump of every payload the pipeline builds is that very dict (same keys,
same order, same values): checked here on the golden frames of every shipped profile, the
demo sheets and the official health corpus, byte for byte on the wire.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from bridge.core import edxl
from bridge.core.edxl import wrap
from bridge.core.errors import BridgeError, OutboundError
from bridge.core.models.types import format_hub_datetime
from bridge.core.pipeline import HubPayload, health_to_hub, legacy_to_hub
from bridge.refdata.hub_bodies import encode_hub_body
from bridge.refdata.profiles import build_context, load_profile
from bridge.runtime.demo import demo_frame
from bridge.testing.rig import SAMU, SDIS, Rig
from tests.health_corpus import NO_CORPUS, REF, corpus_validator, examples

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
PROFILES = ["lrm-alpha-text", "lrm-beta-text", "lrm-alpha-xml", "lrm-beta-xml"]
NOW = datetime(2024, 5, 18, 16, 30, tzinfo=UTC)


def _both_ways(item: HubPayload) -> tuple[bytes, bytes]:
    """The wire bytes of one payload through the reference path (model dump) and as built."""
    message_uuid = uuid.UUID(int=7)
    common: dict[str, Any] = {"sender_id": SAMU, "recipient_id": SDIS, "now": NOW, "message_uuid": message_uuid}
    reference = encode_hub_body(wrap(item.name, item.payload, **common))
    built = encode_hub_body(wrap(item.name, item.payload, as_built=True, **common))
    return reference, built


def _golden_payloads() -> list[tuple[str, HubPayload]]:
    counter = itertools.count(1)
    ctx = build_context(now=NOW, new_id=lambda: f"id-{next(counter):04d}", sender_id=SAMU, recipient_id=SDIS,
                        allow_to_fire=("patients.last_name", "patients.first_name", "patients.sex", "patients.age"),
                        basis="test: every field the pipeline can write")
    out = []
    for profile_name in PROFILES:
        for message in sorted((GOLDEN / profile_name).iterdir()):
            if message.suffix not in (".txt", ".xml"):
                continue
            profile = load_profile(profile_name)
            if message.name.startswith("accent-") and profile.adapter == "legacy-text":
                profile = profile.model_copy(update={"encoding": message.name.removeprefix("accent-").rsplit(".", 1)[0]})
            wide = profile.dates.model_copy(update={"max_past_days": 36500, "max_future_minutes": 10 ** 7})
            profile = profile.model_copy(update={"dates": wide})
            out += [(f"{profile_name}/{message.name}", item)
                    for item in legacy_to_hub(message.read_bytes(), profile, ctx)]
    return out


def test_the_golden_frames_give_the_same_bytes_as_built() -> None:
    """Every payload of every golden frame (createCase, EMSI, RC-RI): the dict as built is the model's dump."""
    payloads = _golden_payloads()
    assert {item.name for _, item in payloads} == {"createCase", "emsi", "resourcesInfoCisu"}
    for where, item in payloads:
        reference, built = _both_ways(item)
        assert built == reference, (where, item.name)


def test_the_demo_sheets_give_the_same_bytes_as_built(tmp_path: Path) -> None:
    """The benchmark's sheets, with and without a request for assistance, through the service's translator."""
    rig = Rig(tmp_path)
    try:
        items = [item for n in range(1, 40) for item in rig.service.translator.to_hub(demo_frame(n, assistance=n % 2 == 0))]
    finally:
        rig.close()
    assert {item.name for item in items} == {"createCase", "emsi"}
    for item in items:
        reference, built = _both_ways(item)
        assert built == reference


@NO_CORPUS
def test_the_health_corpus_gives_the_same_bytes_as_built() -> None:
    """Official RS-EDA, RS-EDA-MAJ and RS-RI examples through a health LRM link: RC-EDA and RC-RI as built."""
    assert REF is not None
    profile = load_profile("lrm-health-json")
    ctx = build_context(nomenclature_dir=REF / "nomenclatures", schemas=REF, sender_id=SAMU, recipient_id=SDIS,
                        profile="lrm-health-json")
    wide = profile.dates.model_copy(update={"max_past_days": 36500, "max_future_minutes": 10 ** 7})
    profile = profile.model_copy(update={"dates": wide})
    items = []
    for path in examples("RS-EDA", "RS-EDA-MAJ", "RS-RI"):
        try:
            items += health_to_hub(path.read_bytes(), profile, ctx, corpus_validator())
        except BridgeError:  # an example the fire side cannot be sent (no CISU code...): nothing to wrap
            continue
    assert {item.name for item in items} >= {"createCase", "resourcesInfoCisu"}
    for item in items:
        reference, built = _both_ways(item)
        assert built == reference


class TestAnInvalidBuiltPayloadIsRefused:
    """The model check is not skipped as built: a payload built invalid is refused as on the reference path."""

    @pytest.mark.parametrize("as_built", [False, True])
    def test_same_error_both_ways(self, as_built: bool) -> None:
        payload = {"caseId": "fr.health.samu440.X", "creation": "yesterday", "referenceVersion": "1.3"}
        with pytest.raises(OutboundError) as caught:
            wrap("createCase", payload, sender_id=SAMU, recipient_id=SDIS, now=NOW, message_uuid=uuid.UUID(int=1),
                 as_built=as_built)
        paths = {issue.path for issue in caught.value.issues}
        assert "/createCase/creation" in paths and "/createCase/qualification" in paths

    def test_the_model_runs_once_and_the_dump_does_not(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """As built: one check of the payload (its model's schema compiled as a verdict: no model built), no
        ``to_hub`` dump of it; the reference path validates into the model and dumps it."""
        item = _golden_payloads()[0][1]
        # the envelope template of this sender/recipient pair is built (and validated) once, before: not counted
        wrap(item.name, item.payload, sender_id=SAMU, recipient_id=SDIS, now=NOW, message_uuid=uuid.UUID(int=1))
        calls: list[str] = []
        validate, dump, accepts = edxl.validate_model, edxl.HubModel.to_hub, edxl.accepts
        monkeypatch.setattr(edxl, "validate_model", lambda model, *a, **k: calls.append(model.__name__)
                            or validate(model, *a, **k))
        monkeypatch.setattr(edxl, "accepts", lambda model, data: calls.append(f"verdict {model.__name__}")
                            or accepts(model, data))
        monkeypatch.setattr(edxl.HubModel, "to_hub", lambda self: calls.append("dump") or dump(self))
        wrap(item.name, item.payload, sender_id=SAMU, recipient_id=SDIS, now=NOW, message_uuid=uuid.UUID(int=2),
             as_built=True)
        assert calls == ["verdict CreateCase"]
        calls.clear()
        wrap(item.name, item.payload, sender_id=SAMU, recipient_id=SDIS, now=NOW, message_uuid=uuid.UUID(int=3))
        assert calls == ["CreateCase", "dump"]
        calls.clear()
        with pytest.raises(OutboundError):  # refused by the verdict: the model says why
            wrap(item.name, {**item.payload, "creation": "yesterday"}, sender_id=SAMU, recipient_id=SDIS, now=NOW,
                 message_uuid=uuid.UUID(int=4), as_built=True)
        assert calls == ["verdict CreateCase", "CreateCase"]


_OFFSETS = st.one_of(st.integers(-23 * 3600 - 3599, 23 * 3600 + 3599).map(lambda s: timezone(timedelta(seconds=s))),
                     st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m))))


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)), _OFFSETS)
@settings(max_examples=500, deadline=None)
def test_the_envelope_dates_are_the_models_text(naive: datetime, zone: timezone) -> None:
    """wrap() writes its dates with isoformat when that is the strict Hub text, else as the models do (or refuse)."""
    value = naive.replace(tzinfo=zone, microsecond=0)
    try:
        expected: object = format_hub_datetime(value)
    except ValueError as exc:
        expected = type(exc)
    try:
        got: object = edxl._hub_text(value)
    except ValueError as exc:
        got = type(exc)
    assert got == expected


@given(st.uuids(), st.sampled_from([str, lambda u: str(u).upper(), lambda u: u.hex, lambda u: f"{{{u}}}", lambda u: u]))
def test_the_distribution_id_names_the_canonical_uuid_whatever_its_form(value: uuid.UUID, form: Any) -> None:
    assert edxl.distribution_id_for(SAMU, form(value)) == f"{SAMU}_{value}"


@pytest.mark.parametrize("bundle", [False, pytest.param(True, marks=NO_CORPUS)])
def test_a_payload_built_invalid_is_refused_by_the_service_with_or_without_a_bundle(tmp_path: Path, bundle: bool,
                                                                                   monkeypatch: pytest.MonkeyPatch):
    """An encoder that writes an invalid createCase: the frame is dead-lettered and the LRM gets a NACK, whether
    the schema bundle checks it in the pipeline or, without one, the model check of the wrap step."""
    from bridge.core import pipeline

    real = pipeline.encode_create_case

    def broken(case: Any, ctx: Any) -> Any:
        payload, dropped, warnings = real(case, ctx)
        return {**payload, "creation": "yesterday"}, dropped, warnings

    monkeypatch.setattr(pipeline, "encode_create_case", broken)
    rig = Rig(tmp_path)
    try:
        if bundle:
            rig.service.translator.validator = corpus_validator()
        reply = rig.settled(rig.service.on_legacy_frame(demo_frame(3, assistance=False)))
        assert reply.startswith(b"NACK=DEMO-000003;")
        [entry] = rig.store.dlq_list()
        assert entry.error_path == "/createCase/creation" and entry.original == demo_frame(3, assistance=False)
        assert rig.states() == {}
    finally:
        rig.close()


_DEMO_LINES = demo_frame(1).decode("cp1252").split("\r\n") if b"\r\n" in demo_frame(1) else \
    demo_frame(1).decode("cp1252").split("\n")
_FIELDS = ["NUM_DOSSIER", "NATURE", "LIEU", "NB_VICTIMES", "NUMERO", "VOIE", "COMMUNE", "INSEE", "APPELANT", "TEL",
           "OBS", "DEMANDE_SP", "TYPE_CONCOURS", "MOTIF_CONCOURS", "MOYEN", "LAT", "LON"]
_VALUES = st.one_of(st.text(st.characters(blacklist_characters="\r\n=", blacklist_categories=("Cs",)), max_size=40),
                    st.decimals(min_value=-90, max_value=90, places=6).map(str))
_FUZZ_CTX = build_context(now=NOW, new_id=lambda: "id-0001", sender_id=SAMU, recipient_id=SDIS)
_ALPHA = load_profile("lrm-alpha-text")
_ALPHA = _ALPHA.model_copy(update={"dates": _ALPHA.dates.model_copy(update={"max_past_days": 36500,
                                                                             "max_future_minutes": 10 ** 7})})


@given(st.dictionaries(st.sampled_from(_FIELDS), _VALUES, max_size=6))
@settings(max_examples=200, deadline=None)
def test_any_sheet_the_pipeline_translates_gives_the_same_bytes_as_built(changes: dict[str, str]) -> None:
    """The demo sheet with arbitrary field values (text, accents, numbers, coordinates): whatever the pipeline
    builds goes out with the same bytes both ways, or is refused the same way both ways."""
    lines = [line for line in _DEMO_LINES if line.split("=", 1)[0] not in changes]
    lines += [f"{key}={value}" for key, value in changes.items()]
    frame = "\r\n".join(lines).encode("cp1252", "replace")
    try:
        items = legacy_to_hub(frame, _ALPHA, _FUZZ_CTX)
    except BridgeError:
        event("sheet refused by the pipeline")
        return
    event(f"translated: {', '.join(item.name for item in items)}")
    for item in items:
        outcomes = []
        for as_built in (False, True):
            try:
                outcomes.append(encode_hub_body(wrap(item.name, item.payload, sender_id=SAMU, recipient_id=SDIS,
                                                     now=NOW, message_uuid=uuid.UUID(int=9), as_built=as_built)))
            except OutboundError as exc:
                outcomes.append(exc.issues)
        assert outcomes[0] == outcomes[1]
