"""Adapters at 3 a.m.: every refusal names the field, line or byte, and the table or profile at fault."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

import pytest

from bridge.core.adapters.base import AdapterContext
from bridge.core.adapters.legacy_text import LegacyTextAdapter
from bridge.core.adapters.legacy_xml import LegacyXmlAdapter
from bridge.core.adapters.profile import parse_profile
from bridge.core.adapters.registry import get_adapter
from bridge.core.canonical import Case, Coded, Location, Qualification
from bridge.core.errors import BridgeError, HubErrorCode, InboundError, OutboundError, UnsafeXml
from bridge.core.mapping import Mapped, UnmappedCode
from bridge.core.pipeline import translate
from bridge.refdata.adapters import discover, installed_adapters
from bridge.refdata.profiles import load_profile

NOW = datetime(2024, 5, 18, 16, 30, tzinfo=UTC)


class TinyMappings:
    """A two-row stand-in for MappingSet: INC <-> C04.00.00, anything else rejected like a 'reject' table."""

    ROWS: ClassVar[dict[str, str]] = {"INC": "C04.00.00", "501": "C09.03.00"}

    def forward(self, table: str, code: str) -> Mapped:
        if code in self.ROWS:
            return Mapped(self.ROWS[code], None, f"{table}.csv:2")
        raise UnmappedCode(table, "forward", code, "tables.toml:9")

    def reverse(self, table: str, code: str) -> Mapped:
        back = {v: k for k, v in self.ROWS.items()}
        if code in back:
            return Mapped(back[code], None, f"{table}.csv:2")
        raise UnmappedCode(table, "reverse", code, "tables.toml:12")


def ctx_for(profile_name: str) -> AdapterContext:
    return AdapterContext(now=NOW, new_id=lambda: "id-1", mappings=TinyMappings(),
                          profile=load_profile(profile_name), sender_id="fr.health.samu440",
                          adapters=installed_adapters())


ALPHA_MINIMAL = b"NUM_DOSSIER=A1\r\nDATE_APPEL=20240518181500\r\nNATURE=INC\r\nCOMMUNE=Nantes"


def test_minimal_alpha_text_decodes_with_local_time():
    """The alpha dialect's local-time date gets the Paris offset; the code is mapped through the table."""
    case = LegacyTextAdapter().decode(ALPHA_MINIMAL, ctx_for("lrm-alpha-text")).case
    assert case.created.isoformat() == "2024-05-18T18:15:00+02:00"
    assert case.qualification.whats_happen.code == "C04.00.00"
    assert case.location.city == "Nantes"


def test_missing_required_fields_are_all_named():
    """Every missing required field is listed at once, with INSUFFICIENT_DATA."""
    with pytest.raises(InboundError) as caught:
        LegacyTextAdapter().decode(b"NUM_DOSSIER=A1", ctx_for("lrm-alpha-text"))
    assert caught.value.hub_code == HubErrorCode.INSUFFICIENT_DATA
    assert {i.path for i in caught.value.issues} == {"DATE_APPEL", "NATURE", "COMMUNE"}


def test_invalid_byte_is_refused_with_its_offset():
    """A byte that is not valid in the profile's encoding is named by offset, not guessed."""
    ctx = ctx_for("lrm-alpha-text")
    ctx = ctx.with_profile(ctx.profile.model_copy(update={"encoding": "utf-8"}))
    with pytest.raises(InboundError) as caught:
        LegacyTextAdapter().decode(b"NUM_DOSSIER=A\xe91", ctx)
    assert caught.value.issues[0].path == "byte 13"
    assert caught.value.issues[0].code == "bad-encoding"


def test_line_without_assignment_is_named():
    """A record line that is not KEY=VALUE is refused naming the line."""
    with pytest.raises(InboundError) as caught:
        LegacyTextAdapter().decode(ALPHA_MINIMAL + b"\r\ngarbage", ctx_for("lrm-alpha-text"))
    assert caught.value.issues[0].path == "line 5"


def test_unmappable_code_names_table_and_line():
    """A code the table rejects is refused naming the frame line and field, then the table and manifest line."""
    with pytest.raises(InboundError) as caught:
        LegacyTextAdapter().decode(ALPHA_MINIMAL.replace(b"INC", b"ZZZ"), ctx_for("lrm-alpha-text"))
    first, second = caught.value.issues[:2]
    assert first.path == "line 3" and "NATURE" in first.message and "lrm-alpha-nature" in first.message
    assert "tables.toml:9" in second.path


def test_unknown_table_code_names_profile_and_field():
    """A code missing from a profile's (former inline, now CSV) table is refused naming the profile, field, line."""
    with pytest.raises(InboundError) as caught:
        LegacyTextAdapter().decode(ALPHA_MINIMAL + b"\r\nTYPE_VICTIME=XXX", ctx_for("lrm-alpha-text"))
    issue = caught.value.issues[0]
    assert issue.path == "line 5" and "lrm-alpha-text" in issue.message and "TYPE_VICTIME" in issue.message


@pytest.mark.parametrize(("line", "code"), [
    (b"DATE_APPEL=18/05/2024", "bad-date"), (b"DATE_APPEL=2024051818150", "bad-date"),
    (b"DATE_APPEL=202405181815000", "bad-date"), (b"DATE_APPEL=2024518181500", "bad-date"),
    (b"LAT=north", "bad-number"), (b"LAT=NaN", "bad-number"),
    (b"LAT=1e999999", "bad-number"), (b"VICT1_AGE=old", "bad-number"), ("VICT1_AGE=²".encode("cp1252"), "bad-number"),
    (b"VICT1_AGE=" + b"9" * 5000, "bad-number")])
def test_bad_values_are_named(line, code):
    """Dates, decimals and ages that do not parse are refused with the field's line.

    A 13- or 15-digit stamp, or one with an unpadded month, is refused too: strptime alone
    would read a date out of it (a wrong date is worse than a refused frame).
    """
    data = ALPHA_MINIMAL.replace(b"DATE_APPEL=20240518181500", b"") if line.startswith(b"DATE") else ALPHA_MINIMAL
    with pytest.raises(InboundError) as caught:
        LegacyTextAdapter().decode(data + b"\r\n" + line, ctx_for("lrm-alpha-text"))
    assert caught.value.issues[0].code == code


def test_unknown_field_is_reported_dropped_not_ignored():
    """A field the profile does not know is kept in the dropped report with its line."""
    decoded = LegacyTextAdapter().decode(ALPHA_MINIMAL + b"\r\nCOULEUR=rouge", ctx_for("lrm-alpha-text"))
    assert [(d.path, d.code) for d in decoded.dropped] == [("line 5", "dropped")]


def test_delimited_extra_column_is_refused():
    """A beta line with more columns than the profile defines is refused naming the column."""
    line = ";".join(["B1", "2024-01-01T00:00:00+01:00", "501"] + [""] * 23 + ["extra"]).encode()
    with pytest.raises(InboundError) as caught:
        LegacyTextAdapter().decode(line, ctx_for("lrm-beta-text"))
    assert caught.value.issues[0].path == "column 27"


def test_delimiter_in_value_is_replaced_with_a_warning():
    """Encoding a value containing the delimiter replaces it and says so, instead of shifting columns."""
    case = Case(sender_case_id="B1", created=NOW, qualification=Qualification(whats_happen=Coded(code="C09.03.00")),
                location=Location(city="Nantes; centre"))
    encoded = LegacyTextAdapter().encode(case, ctx_for("lrm-beta-text"))
    assert encoded.data.split(b";")[10] == b"Nantes  centre"
    assert any(w.code == "value-altered" for w in encoded.warnings)


def test_encode_without_required_value_is_an_outbound_error():
    """A case lacking a field the dialect requires is our problem (OutboundError), named by target."""
    case = Case(sender_case_id="B1", created=NOW, qualification=Qualification(whats_happen=Coded(code="C09.03.00")))
    with pytest.raises(OutboundError) as caught:
        LegacyTextAdapter().encode(case, ctx_for("lrm-beta-text"))
    assert caught.value.issues[0].path == "location.city"


def test_legacy_xml_refuses_entities():
    """An XXE attempt in a case sheet is refused by the hardened parser."""
    data = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><fiche1518>&e;</fiche1518>'
    with pytest.raises(UnsafeXml):
        LegacyXmlAdapter().decode(data, ctx_for("lrm-alpha-xml"))


def test_legacy_xml_schema_errors_name_lines():
    """A sheet that breaks the project XSD is refused with each error's line."""
    data = b'<fiche1518 version="2.0">\n<dossier>\n<numero>A1</numero>\n<dateAppel>hier</dateAppel>\n</dossier>\n</fiche1518>'
    with pytest.raises(InboundError) as caught:
        LegacyXmlAdapter().decode(data, ctx_for("lrm-alpha-xml"))
    assert caught.value.hub_code == HubErrorCode.INVALID_MESSAGE
    assert "line 4" in {i.path for i in caught.value.issues}


def test_legacy_xml_wrong_root_is_named():
    """A beta sheet given to the alpha profile is refused for its root element."""
    with pytest.raises(InboundError, match="FICHE_SDIS"):
        LegacyXmlAdapter().decode(b"<FICHE_SDIS/>", ctx_for("lrm-alpha-xml"))


def test_legacy_adapter_without_profile_says_so():
    """Using a legacy adapter without --profile is a clear configuration error."""
    ctx = AdapterContext(now=NOW, new_id=lambda: "x")
    with pytest.raises(BridgeError, match="needs a profile"):
        LegacyTextAdapter().decode(ALPHA_MINIMAL, ctx)


@pytest.mark.parametrize(("toml", "where"), [
    ('name="p"\nadapter="legacy-text"\nencoding="ebcdic"\nfields=[]', "encoding"),
    ('name="p"\nadapter="legacy-text"\nframing="morse"\nfields=[]', "framing"),
    ('name="p"\nadapter="legacy-text"\n[[fields]]\nkey="A"\ntarget="case.colour"', "fields.0.target"),
    ('name="p"\nadapter="legacy-xml"\nfields=[]', "p.toml:"),
])
def test_bad_profiles_are_refused_naming_the_setting(toml, where):
    """A profile with an unknown encoding, framing or target is refused naming file and setting."""
    with pytest.raises(BridgeError) as caught:
        parse_profile(toml, "p.toml")
    assert any(where in issue.path for issue in caught.value.issues)


def test_every_shipped_profile_loads():
    """All four shipped dialect profiles parse, and XML ones carry their XSD text."""
    for name in ("lrm-alpha-text", "lrm-beta-text", "lrm-alpha-xml", "lrm-beta-xml"):
        profile = load_profile(name)
        assert profile.name == name
        assert profile.xml is None or "xs:schema" in profile.xml.xsd_text


def test_registry_lists_builtins_and_refuses_unknown_names():
    """The six built-ins are installed; an unknown adapter name lists the installed ones."""
    names = set(discover())
    assert {"rc-eda-json", "rc-eda-xml", "emsi-json", "emsi-xml", "legacy-text", "legacy-xml"} <= names
    with pytest.raises(BridgeError) as caught:
        get_adapter("telex", discover())
    assert "legacy-text" in caught.value.issues[0].message


def test_registry_without_package_metadata_reads_the_source_tree_declaration():
    """An uninstalled checkout still finds the built-ins, from the same pyproject entry points (no second list)."""
    import tomllib

    from bridge.refdata.resources import PROJECT_ROOT

    declared = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["entry-points"]
    found = discover(points=[])
    assert set(found) == set(declared["hub_bridge.adapters"])
    assert {info.provider for info in found.values()} == {"hub-bridge"}


def test_pipeline_legacy_to_rc_eda_without_request_drops_nothing():
    """A plain legacy case reaches RC-EDA with nothing dropped."""
    result = translate(ALPHA_MINIMAL, source="legacy-text", target="rc-eda-json", ctx=ctx_for("lrm-alpha-text"))
    assert result.dropped == [] and b'"C04.00.00"' in result.data


def test_profile_ack_and_nack_frames_use_the_dialect():
    """Each dialect renders its own ack/nack payloads, in its encoding, on one line."""
    alpha, beta = load_profile("lrm-alpha-text"), load_profile("lrm-beta-text")
    assert alpha.ack_frame("A1") == b"ACK=A1"
    assert beta.nack_frame("B1", 704, "champ VILLE\nmanquant é") == "1;B1;704;champ VILLE manquant é".encode("latin-1")


def test_extras_target_round_trips_through_rc_eda():
    """A dialect field mapped to extras.NAME crosses RC-EDA in customMap and comes back."""
    text = load_profile("lrm-alpha-text").model_dump()
    text["fields"] = [*text["fields"], {"key": "PRIORITE", "target": "extras.priorite"}]
    profile = load_profile("lrm-alpha-text").model_validate(text)
    ctx = ctx_for("lrm-alpha-text").with_profile(profile)
    there = translate(ALPHA_MINIMAL + b"\r\nPRIORITE=P1", source="legacy-text", target="rc-eda-json", ctx=ctx)
    assert b"hub-bridge.extras" in there.data
    back = translate(there.data, source="rc-eda-json", target="legacy-text", ctx=ctx)
    assert b"PRIORITE=P1" in back.data


def test_characters_the_link_lacks_are_replaced_with_a_warning():
    """A Hub text with œ and € reaches an ISO-8859-1 link transliterated, with a value-altered warning."""
    case = Case(sender_case_id="B1", created=NOW, qualification=Qualification(whats_happen=Coded(code="C09.03.00")),
                location=Location(city="Bœuf-sur-Mer ✓", free_text="coût 5 €"))
    encoded = LegacyTextAdapter().encode(case, ctx_for("lrm-beta-text"))
    columns = encoded.data.decode("iso-8859-1").split(";")
    assert columns[10] == "Boeuf-sur-Mer ?" and columns[14] == "coût 5 EUR"
    assert any(w.code == "value-altered" and "œ" in w.message for w in encoded.warnings)


def test_utf8_on_a_cp1252_link_is_accepted_with_a_warning():
    """Every byte is valid cp1252, so the frame goes on; the warning names the line and the cause."""
    data = ALPHA_MINIMAL + "\r\nOBS=Personne âgée au sol".encode()
    decoded = LegacyTextAdapter().decode(data, ctx_for("lrm-alpha-text"))
    suspects = [w for w in decoded.warnings if w.code == "encoding-suspect"]
    assert len(suspects) == 1 and suspects[0].path == "line 5" and "UTF-8" in suspects[0].message


def test_real_cp1252_text_raises_no_encoding_warning():
    data = ALPHA_MINIMAL + "\r\nOBS=Personne âgée au sol".encode("cp1252")
    decoded = LegacyTextAdapter().decode(data, ctx_for("lrm-alpha-text"))
    assert not [w for w in decoded.warnings if w.code == "encoding-suspect"]
    assert [note.text for note in decoded.case.notes] == ["Personne âgée au sol"]


class OmittingMappings(TinyMappings):
    """TinyMappings whose forward tables declare ``unmapped = "omit"``: an unknown code is left empty, warned."""

    def forward(self, table: str, code: str) -> Mapped:
        if code in self.ROWS:
            return Mapped(self.ROWS[code], None, f"{table}.csv:2")
        return Mapped(None, f"table {table!r}: no forward mapping for {code!r}; the field is left empty",
                      "tables.toml:9", "omitted", code, table)


@pytest.mark.parametrize("extra", [b"LIEU=ZZ", b"RISQUE=ZZ", b"QUALITE_APPELANT=ZZ"])
def test_forward_omit_policy_leaves_the_field_empty_and_says_so(extra: bytes):
    """A table whose forward policy is "omit" leaves that field out of the case with a warning naming the
    code and the table; it is not a refusal ("1 validation error for Coded") of the whole frame."""
    ctx = ctx_for("lrm-alpha-text")
    ctx = AdapterContext(now=ctx.now, new_id=ctx.new_id, mappings=OmittingMappings(), profile=ctx.profile,
                         sender_id=ctx.sender_id, adapters=ctx.adapters)
    decoded = LegacyTextAdapter().decode(ALPHA_MINIMAL + b"\r\n" + extra, ctx)
    key = extra.split(b"=")[0].decode()
    assert any("'ZZ'" in w.message and "left empty" in w.message for w in decoded.warnings), decoded.warnings
    assert "ZZ" not in decoded.case.model_dump_json()
    assert decoded.case.qualification.whats_happen.code == "C04.00.00", key
