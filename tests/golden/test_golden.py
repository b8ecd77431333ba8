"""Golden translations of every shipped legacy profile: legacy -> Hub (schema-valid, as expected) -> legacy."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import simplejson

from bridge.core.adapters.legacy_text import _parse_delimited, _parse_keyvalue, decode_text
from bridge.core.adapters.legacy_xml import _record
from bridge.core.pipeline import hub_payloads_to_legacy, legacy_to_hub
from bridge.core.xmlsafe import parse_xml
from bridge.refdata.profiles import load_profile

GOLDEN = Path(__file__).resolve().parent
PROFILES = ["lrm-alpha-text", "lrm-beta-text", "lrm-alpha-xml", "lrm-beta-xml"]
CASES = [(p, m.name) for p in PROFILES for m in sorted((GOLDEN / p).iterdir()) if m.suffix in (".txt", ".xml")]
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def _profile_for(profile_name: str, message: str):
    """The profile, with the message's encoding when its name says one (accent-<encoding>)."""
    profile = load_profile(profile_name)
    if message.startswith("accent-") and profile.adapter == "legacy-text":
        profile = profile.model_copy(update={"encoding": message.removeprefix("accent-").rsplit(".", 1)[0]})
    return profile


def _fields(data: bytes, profile) -> list[tuple[str, str]]:
    """The (field, value) pairs of a legacy message, sorted, victims included."""
    if profile.adapter == "legacy-xml":
        record = _record(parse_xml(data), profile)
    else:
        text = decode_text(data, profile.encoding)
        record = _parse_keyvalue(text, profile) if profile.text.style == "keyvalue" else _parse_delimited(text, profile)
    pairs = [(e.key, e.value) for e in record.entries]
    pairs += [(f"victim{i}.{k}", e.value) for i, parts in enumerate(record.patients) for k, e in parts.items()]
    return sorted(pairs)


def test_every_profile_has_the_five_kinds_of_message():
    """Each profile ships normal, minimal, accented (3 encodings), multi-victim and assistance messages."""
    for profile in PROFILES:
        names = {m.stem for m in (GOLDEN / profile).iterdir() if m.suffix in (".txt", ".xml")}
        assert {"normal", "minimal", "accent-utf-8", "accent-iso-8859-1", "accent-cp1252", "multi-victim",
                "assistance"} <= names, profile


@pytest.mark.parametrize(("profile_name", "message"), CASES)
def test_legacy_to_hub_is_valid_and_as_expected(profile_name, message, fresh_ctx, schema_validator):
    """The message becomes schema-valid Hub payloads equal to the recorded golden output."""
    profile = _profile_for(profile_name, message)
    payloads = legacy_to_hub((GOLDEN / profile_name / message).read_bytes(), profile, fresh_ctx,
                             validator=schema_validator)
    produced = {p.name: p.payload for p in payloads}
    text = simplejson.dumps(produced, use_decimal=True, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    expected_file = GOLDEN / profile_name / f"{Path(message).stem}.expected.json"
    if UPDATE or not expected_file.exists():
        expected_file.write_text(text, encoding="utf-8")
    assert text == expected_file.read_text(encoding="utf-8")
    assert ("emsi" in produced) == (message.startswith("assistance"))
    assert payloads[0].name == "createCase" and payloads[0].dropped == []


@pytest.mark.parametrize(("profile_name", "message"), CASES)
def test_round_trip_gives_the_original_fields(profile_name, message, fresh_ctx):
    """Legacy -> Hub payloads -> legacy gives back every original field and victim."""
    profile = _profile_for(profile_name, message)
    original = (GOLDEN / profile_name / message).read_bytes()
    payloads = legacy_to_hub(original, profile, fresh_ctx)
    round_trip = json.loads(json.dumps([(p.name, p.payload) for p in payloads], default=str))
    back = hub_payloads_to_legacy([(name, payload) for name, payload in round_trip], profile, fresh_ctx)
    assert _fields(back.data, profile) == _fields(original, profile)
