"""The victims' sex goes through a CSV table per LRM dialect (lrm-alpha-sex, lrm-beta-sex), like every code.

An unknown sex code is visible both ways: from the LRM it is sent as the table's declared fallback (UN) with a
``value-altered`` warning naming the original; towards the LRM an official code the dialect lacks (O, "autre")
degrades to the dialect's "unknown" code and the official code travels in the notes, never dropped.
"""

from __future__ import annotations

import pytest

from bridge.core.adapters.legacy_text import LegacyTextAdapter
from bridge.core.adapters.legacy_xml import LegacyXmlAdapter
from bridge.core.errors import InboundError
from bridge.core.pipeline import translate
from bridge.refdata.profiles import load_profile
from tests.golden.conftest import GOLDEN

ADAPTERS = {"legacy-text": LegacyTextAdapter(), "legacy-xml": LegacyXmlAdapter()}
UNKNOWN = {"lrm-alpha-text": "I", "lrm-alpha-xml": "I", "lrm-beta-text": "9", "lrm-beta-xml": "9"}


def _frame(profile_name: str) -> bytes:
    """The golden frame of the profile with several victims (one of each sex)."""
    suffix = "xml" if profile_name.endswith("-xml") else "txt"
    return (GOLDEN / profile_name / f"multi-victim.{suffix}").read_bytes()


def _with_sex(profile_name: str, old: str, new: str) -> bytes:
    frame = _frame(profile_name)
    for pattern in ("SEXE={}", "SEXE>{}<", "sexe>{}<", "/{}/"):
        before, after = pattern.format(old).encode(), pattern.format(new).encode()
        if before in frame:
            return frame.replace(before, after, 1)
    raise AssertionError(f"no sex {old!r} in the golden frame of {profile_name}")


def _known_sex(profile_name: str) -> str:
    return {"lrm-alpha-text": "M", "lrm-alpha-xml": "M", "lrm-beta-text": "1", "lrm-beta-xml": "1"}[profile_name]


@pytest.mark.parametrize("profile_name", sorted(UNKNOWN))
def test_the_sex_map_is_a_table_not_inline(profile_name):
    patients = load_profile(profile_name).patients
    assert patients is not None and patients.sex_codes == {}
    assert patients.sex_table == f"lrm-{profile_name.split('-')[1]}-sex"


@pytest.mark.parametrize(("profile_name", "bad"), [("lrm-alpha-text", "X"), ("lrm-beta-text", "7"),
                                                   ("lrm-beta-xml", "7")])
def test_an_unknown_lrm_sex_code_is_sent_as_unknown_with_a_warning(profile_name, bad, fresh_ctx):
    """Outbound: an unknown code is not passed to the Hub unchanged; the declared fallback UN is used and said."""
    profile = load_profile(profile_name)
    ctx = fresh_ctx.with_profile(profile)
    known = translate(_frame(profile_name), source=profile.adapter, target="emsi-json", ctx=ctx)
    assert known.case.patients and all(p.sex in {"M", "F", "UN", None} for p in known.case.patients)
    result = translate(_with_sex(profile_name, _known_sex(profile_name), bad), source=profile.adapter,
                       target="emsi-json", ctx=ctx)
    sexes = [p.sex for p in result.case.patients]
    assert bad not in sexes and sexes[0] == "UN"
    warning = next(w for w in result.warnings if w.code == "value-altered" and repr(bad) in w.message)
    assert f"lrm-{profile_name.split('-')[1]}-sex" in warning.message


@pytest.mark.parametrize("profile_name", sorted(UNKNOWN))
def test_an_official_sex_the_lrm_lacks_degrades_with_the_original_in_the_notes(profile_name, fresh_ctx):
    """Inbound: O (autre) has no dialect code: the dialect's "unknown" is sent, O travels in the notes, warned."""
    profile = load_profile(profile_name)
    ctx = fresh_ctx.with_profile(profile)
    case = translate(_frame(profile_name), source=profile.adapter, target="emsi-json", ctx=ctx).case
    patients = [case.patients[0].model_copy(update={"sex": "O"}), *case.patients[1:]]
    encoded = ADAPTERS[profile.adapter].encode(case.model_copy(update={"patients": patients}), ctx)
    text = encoded.data.decode(profile.encoding)
    assert "code officiel O" in text and f"transmis comme {UNKNOWN[profile_name]}" in text
    assert any(w.code == "value-altered" and "'O'" in w.message for w in encoded.warnings)
    back = ADAPTERS[profile.adapter].decode(encoded.data, ctx)
    assert back.case.patients[0].sex == "UN"  # the dialect's unknown, never a made-up M or F


@pytest.mark.parametrize("profile_name", sorted(UNKNOWN))
def test_known_sex_codes_round_trip_without_warning(profile_name, fresh_ctx):
    profile = load_profile(profile_name)
    ctx = fresh_ctx.with_profile(profile)
    case = translate(_frame(profile_name), source=profile.adapter, target="emsi-json", ctx=ctx).case
    encoded = ADAPTERS[profile.adapter].encode(case, ctx)
    assert not [w for w in encoded.warnings if "sex" in w.message]
    assert [p.sex for p in ADAPTERS[profile.adapter].decode(encoded.data, ctx).case.patients] == \
        [p.sex for p in case.patients]


def test_a_rejecting_sex_table_refuses_naming_the_field(fresh_ctx, monkeypatch):
    """A site that declares ``unmapped = "reject"`` for the forward direction gets a refusal naming the key."""
    from bridge.core.mapping.mapping_set import MappingSet
    from bridge.core.mapping.table import Policy

    profile = load_profile("lrm-alpha-text")
    tables = dict(fresh_ctx.mappings.tables)
    table = tables["lrm-alpha-sex"]
    spec = table.spec.model_copy(update={"forward": table.spec.forward.model_copy(update={"unmapped": Policy.REJECT})})
    tables["lrm-alpha-sex"] = table.model_copy(update={"spec": spec})
    strict = fresh_ctx.__class__(**{**fresh_ctx.__dict__, "mappings": MappingSet(tables, "test")})
    with pytest.raises(InboundError) as caught:
        translate(_with_sex("lrm-alpha-text", "M", "X"), source=profile.adapter, target="emsi-json",
                  ctx=strict.with_profile(profile))
    assert caught.value.issues[0].code == "unmapped-code" and "VICT1_SEXE='X'" in caught.value.issues[0].message
