"""The legacy decode's one-pass plan gives what the field-by-field way gave: same case, same refusals.

``legacy_text.LegacyTextAdapter.decode`` now splits, checks and groups a KEY=VALUE frame in one
pass, reads the fields with a reader generated per profile (``legacy_fields.compile_reader``),
puts each value straight where the case reads it and validates the case once
(``legacy_fields.grouped_to_case``, ``flat.place``). The way it replaced is kept below, verbatim
(``_reference_*``: the previous ``decode``, ``record_to_case``, ``_decode_planned``, victims,
``flat.unflatten`` and the date window ``_plausible``), and every frame hypothesis makes is decoded
both ways through the same tables: the same case (values, types and the fields set), the same drops
and warnings, the same code lookups recorded for the console, or the same error (type, message,
issues, Hub code)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.app.translator import RecordingMappings
from bridge.core.adapters import legacy_fields, legacy_text, legacy_xml
from bridge.core.adapters.base import AdapterContext, Decoded, dropped
from bridge.core.adapters.flat import CODED
from bridge.core.adapters.legacy_fields import (
    Entry,
    FieldPlan,
    Record,
    _decode_operations,
    _decode_sex,
    _map_frame_code,
    _parse_datetime,
    _parse_decimal,
    _parse_int,
    _plausible,
    profile_plan,
)
from bridge.core.adapters.legacy_text import (
    _check_kind,
    _lines,
    _parse_delimited,
    _parse_keyvalue,
    decode_text,
    require_profile,
    utf8_on_single_byte_link,
)
from bridge.core.adapters.profile import DatesSpec, PatientsSpec, Profile, parse_profile
from bridge.core.canonical import Case, Coded, Note, Patient
from bridge.core.errors import HubErrorCode, InboundError, Issue
from bridge.refdata.profiles import build_context, load_profile

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 25, 10, 30, tzinfo=ZoneInfo("UTC"))


# ---- the previous way, kept as the reference ------------------------------------------------------------

def _reference_unflatten(flat: dict[str, Any], patients: list[dict[str, Any]], labels: Mapping[str, str]) -> Case:
    nested: dict[str, Any] = {"qualification": {}, "location": {}}
    extras: dict[str, str] = {}
    for target, value in flat.items():
        section, _, name = target.partition(".")
        if section == "extras":
            extras[name] = value
        elif section == "case":
            nested[name] = value
        elif section == "notes":
            nested["notes"] = tuple(Note(text=t) for t in value)
        else:
            nested.setdefault(section, {})[name] = value
    quali = nested["qualification"]
    for target in CODED:
        name = target.split(".")[1]
        if name in quali:
            quali[name] = Coded(code=quali[name], label=labels.get(quali[name]))
    if "risk_threats" in quali:
        quali["risk_threats"] = tuple(Coded(code=c, label=labels.get(c)) for c in quali["risk_threats"])
    request = nested.get("request")
    if request is not None:
        wanted = request.pop("wanted", True)
        if not wanted and not request:
            nested.pop("request")
        else:
            request["resources"] = tuple(request.get("resources", ()))
    if "answer" in nested and "status" not in nested["answer"]:
        nested["answer"]["status"] = "INCONNU"
    nested["patients"] = tuple(Patient(**p) for p in patients)
    nested["extras"] = extras
    return Case.model_validate(nested)


def _reference_decode_planned(plan: FieldPlan, entry: Entry, profile: Profile, ctx: AdapterContext,
                              warnings: list[Issue]) -> Any:
    text = entry.value.strip()
    kind = plan.kind
    if kind == "text":
        return text
    spec = plan.spec
    where = entry.where or spec.key
    if kind == "wanted":
        return text.upper() == spec.true_value.upper()
    if kind == "codes":
        if text not in spec.codes:
            raise InboundError(f"{profile.name}: code {text!r} of {spec.key} is not in the profile's code list",
                               [Issue(where, f"{spec.key}={text!r}: known codes {', '.join(spec.codes)} "
                                             f"(profile {profile.name}, field {spec.key})", "unmapped-code")],
                               HubErrorCode.MESSAGE_CONVERSION_ERROR)
        return spec.codes[text]
    if kind == "table":
        code, issues = _map_frame_code(ctx, spec.table or "", text, where, spec.key, profile.name,
                                       label="code", context=f"field {spec.key}")
        if issues:
            warnings += issues
        return code
    if kind == "created":
        return _plausible(_parse_datetime(text, profile, where), text, profile, ctx, where)
    if kind == "decimal":
        return _parse_decimal(text, where, spec.key, spec.target.rpartition(".")[2])
    return _parse_int(text, where, spec.key)  # kind == "integer"


def _reference_patient(parts: dict[str, Entry], spec: PatientsSpec, profile_name: str, ctx: AdapterContext,
                       warnings: list[Issue]) -> dict[str, Any]:
    names = spec.parts
    patient: dict[str, Any] = {}
    for legacy, entry in parts.items():
        value = entry.value.strip()
        if not value or legacy not in names:
            continue
        target = names[legacy]
        if target == "age":
            patient["age"] = _parse_int(value, entry.where, legacy)
        elif target == "sex":
            sex = _decode_sex(entry, value, spec, profile_name, ctx, warnings)
            if sex is not None:
                patient["sex"] = sex
        else:
            patient[target] = value
    Patient.model_validate(patient)
    return patient


def _reference_decode_patients(record: Record, by_key: dict[str, list[Entry]], profile: Profile,
                               ctx: AdapterContext, warnings: list[Issue]) -> tuple[list[dict[str, Any]], set[str]]:
    spec = profile.patients
    if spec is None:
        return [], set()
    raw: list[dict[str, Entry]] = list(record.patients)
    keys: set[str] = set()
    if spec.mode == "packed":
        keys.add(spec.key)
        for entry in by_key.get(spec.key, []):
            for item in filter(None, entry.value.split(spec.item_separator)):
                values = item.split(spec.part_separator)
                raw.append({name: Entry(name, v, entry.where) for name, v in zip(spec.parts, values, strict=False)})
    elif spec.mode == "indexed":
        pattern = profile_plan(profile).patient_pattern
        assert pattern is not None
        numbered: dict[int, dict[str, Entry]] = {}
        for key, entries in by_key.items():
            match = pattern.match(key)
            if match:
                numbered.setdefault(int(match["n"]), {})[match["part"]] = entries[0]
                keys.add(key)
        raw += [numbered[n] for n in sorted(numbered)]
    return [_reference_patient(parts, spec, profile.name, ctx, warnings) for parts in raw], keys


def _reference_record_to_case(record: Record, profile: Profile, ctx: AdapterContext) -> Decoded:
    plan = profile_plan(profile)
    by_key: dict[str, list[Entry]] = {}
    for entry in record.entries:
        same = by_key.get(entry.key)
        if same is None:
            by_key[entry.key] = [entry]
        else:
            same.append(entry)
    flat: dict[str, Any] = {}
    warnings: list[Issue] = []
    missing: list[Issue] = []
    for field_plan in plan.fields:
        found = by_key.pop(field_plan.key, None)
        if found is not None and (len(found) > 1 or found[0].value == ""):
            found = [e for e in found if e.value != ""]
        if not found:
            if field_plan.required:
                missing.append(Issue(field_plan.key, f"required field {field_plan.key} ({field_plan.target}) is "
                                     "missing or empty", "missing-field"))
            continue
        if len(found) > 1 and not field_plan.repeated:
            warnings.append(Issue(found[1].where, f"{field_plan.key} given {len(found)} times; the first value "
                                  f"({found[0].where}) is used", "repeated-field"))
            found = found[:1]
        if field_plan.repeated:
            values = [_reference_decode_planned(field_plan, e, profile, ctx, warnings) for e in found]
            if kept := [v for v in values if v is not None]:
                flat[field_plan.target] = kept
        elif (value := _reference_decode_planned(field_plan, found[0], profile, ctx, warnings)) is not None:
            flat[field_plan.target] = value
    if missing:
        raise InboundError(f"{profile.name}: {len(missing)} required field(s) missing", missing,
                           HubErrorCode.INSUFFICIENT_DATA)
    patients, patient_keys = _reference_decode_patients(record, by_key, profile, ctx, warnings)
    operations, op_keys, op_drops = _decode_operations(record, by_key, profile, ctx, warnings)
    drops = [dropped(e.where or e.key, f"field {e.key}={e.value!r} is not in profile {profile.name}")
             for key, entries in by_key.items() if key not in patient_keys | op_keys for e in entries]
    try:
        case = _reference_unflatten(flat, patients, ctx.labels)
    except ValueError as exc:
        raise InboundError(f"{profile.name}: message does not make a valid case",
                           [Issue("/", str(exc).splitlines()[0], "invalid")]) from None
    if operations is not None:
        case = case.model_copy(update={"operations": operations})
    return Decoded(case=case, dropped=drops + op_drops, warnings=warnings)


def _reference_text_decode(data: bytes, ctx: AdapterContext) -> Decoded:
    profile = require_profile(ctx, "legacy-text")
    text = decode_text(bytes(data), profile.encoding)
    if profile.text_spec.style == "keyvalue":
        lines = _lines(text, profile)
        _check_kind(text, profile, lines if profile.text_spec.pair_separator in ("\r\n", "\n") else None)
        record = _parse_keyvalue(text, profile, lines)
    else:
        _check_kind(text, profile)
        record = _parse_delimited(text, profile)
    decoded = _reference_record_to_case(record, profile, ctx)
    suspect = utf8_on_single_byte_link(bytes(data), profile.encoding)
    if suspect is None:
        return decoded
    return dataclasses.replace(decoded, warnings=[*decoded.warnings, suspect])


def _reference_xml_decode(data: bytes, ctx: AdapterContext, monkeypatch: pytest.MonkeyPatch) -> Decoded:
    with monkeypatch.context() as patch:
        patch.setattr(legacy_xml, "record_to_case", _reference_record_to_case)
        return legacy_xml.LegacyXmlAdapter().decode(data, ctx)


# ---- both ways, through the same tables ---------------------------------------------------------------

def _fields_set(value: Any) -> Any:
    """Every model's fields set, nested (the case as ``model_dump(exclude_unset=True)`` would show it)."""
    if hasattr(value, "__pydantic_fields_set__"):
        return {name: _fields_set(getattr(value, name)) for name in sorted(value.__pydantic_fields_set__)}
    if isinstance(value, tuple | list):
        return [_fields_set(item) for item in value]
    return value


def _outcome(decode: Callable[[bytes, AdapterContext], Decoded], data: bytes, ctx: AdapterContext) -> tuple:
    recorder = RecordingMappings(ctx.mappings) if ctx.mappings is not None else None
    frame_ctx = AdapterContext(**{**ctx.__dict__, "mappings": recorder})
    lookups = recorder.entries if recorder is not None else []
    try:
        decoded = decode(data, frame_ctx)
    except Exception as exc:  # noqa: BLE001 - whatever either way raises is compared
        return ("refused", type(exc), getattr(exc, "message", str(exc)), getattr(exc, "issues", None),
                getattr(exc, "hub_code", None), lookups)
    case = decoded.case
    return ("decoded", case, case.model_dump(), _fields_set(case), decoded.dropped, decoded.warnings, lookups)


def _same_both_ways(data: bytes, ctx: AdapterContext) -> tuple:
    expected = _outcome(_reference_text_decode, data, ctx)
    got = _outcome(legacy_text.LegacyTextAdapter().decode, data, ctx)
    assert got == expected
    return got


SYNTHETIC = """
name = "synthetic-kv"
adapter = "legacy-text"
encoding = "utf-8"
datetime_format = "iso"
[text]
style = "keyvalue"
pair_separator = "{separator}"
[[fields]]
key = "ID"
target = "case.sender_case_id"
required = true
[[fields]]
key = "HUB"
target = "case.case_id"
[[fields]]
key = "VER"
target = "case.version"
[[fields]]
key = "QUAND"
target = "case.created"
[[fields]]
key = "NAT"
target = "qualification.whats_happen"
codes = {{ A = "C02.11.00", B = "C01.00.00" }}
[[fields]]
key = "NAT2"
target = "qualification.whats_happen"
table = "lrm-alpha-nature"
[[fields]]
key = "LIEU"
target = "qualification.location_kind"
[[fields]]
key = "RISK"
target = "qualification.risk_threats"
[[fields]]
key = "LAT"
target = "location.lat"
[[fields]]
key = "LON"
target = "location.lon"
[[fields]]
key = "PAYS"
target = "location.country"
[[fields]]
key = "X1"
target = "extras.premier"
[[fields]]
key = "X2"
target = "extras.second"
[[fields]]
key = "OBS"
target = "notes"
[[fields]]
key = "DEM"
target = "request.wanted"
true_value = "oui"
[[fields]]
key = "MOY"
target = "request.resources"
[[fields]]
key = "CADRE"
target = "request.frame"
[[fields]]
key = "REP"
target = "answer.free_text"
[[fields]]
key = "REPST"
target = "answer.status"
table = "lrm-alpha-answer"
[[fields]]
key = "APP"
target = "caller.name"
[patients]
mode = "packed"
key = "VICTIMES"
parts = {{ NOM = "last_name", SEXE = "sex", AGE = "age" }}
sex_codes = {{ H = "M", F = "F" }}
"""


@pytest.fixture(scope="module")
def contexts() -> dict[str, AdapterContext]:
    base = build_context(sender_id="fr.health.samu440", recipient_id="fr.fire.nexsis.sdis44", now=NOW)
    found = {name: base.with_profile(load_profile(name)) for name in ("lrm-alpha-text", "lrm-beta-text",
                                                                     "lrm-alpha-xml", "lrm-beta-xml")}
    for label, separator in (("synthetic-newline", "\\n"), ("synthetic-semicolon", ";")):
        found[label] = base.with_profile(parse_profile(SYNTHETIC.format(separator=separator)))
    found["alpha-no-tables"] = dataclasses.replace(found["lrm-alpha-text"], mappings=None)
    return found


ALPHA_LINES = [
    "NUM_DOSSIER=D1", "DATE_APPEL=20261125100000", "NATURE=CHUT", "LIEU=DOM", "MOTIF=RELEV", "NB_VICTIMES=V1",
    "TYPE_VICTIME=SEN", "NUMERO=2", "VOIE=Rue de la Fosse", "COMMUNE=Nantes", "INSEE=44109", "LAT=47.2184",
    "LON=-1.5536", "APPELANT=Voisin", "TEL=0611223344", "QUALITE_APPELANT=TEM", "OBS=Personne âgée au sol",
    "DEMANDE_SP=O", "TYPE_CONCOURS=REL", "MOTIF_CONCOURS=relevage", "MOYEN=VSAV", "REPONSE=ACC",
    "REPONSE_TXT=ok", "RISQUE=ATTENT", "RISQUE=ARMEB", "VICT1_NOM=Durand", "VICT1_SEXE=F", "VICT1_AGE=82", "VICT2_PRENOM=Paul",
    "MOYEN_1_ID=fr.health.samu440.resource.R1", "MOYEN_1_NOM=VSAV 1", "MOYEN_1_ETAT=DECI", "MOYEN_1_HEURE_ETAT=20261125101000", "MISSION_1_TYPE=SAP", "MISSION_1_ID=M1", "MISSION_1_NAME=Relevage", "MISSION_1_STATUS=IPR",
]
ALPHA_KEYS = sorted({line.partition("=")[0] for line in ALPHA_LINES} | {"INCONNU", "AUTRE_CLE", "ZZ", "VICTX_NOM", " NATURE ",
                                                                         "VICT1_SEXE", "MOYEN_2_ETAT"})
VALUES = st.one_of(
    st.sampled_from(["", " ", "CHUT", " CHUT ", "DOM", "XXX", "V1", "SEN", "TEM", "O", "N", "o", "ACC", "REF",
                     "NOPE", "M", "F", "Z", "I", "REL", "ATTENT", "DECI", "ANNU", "20261125100000", "2026112510000", "99991231235959",
                     "19700101000000", "2026-11-25T10:00:00+01:00", "47.2", "-1.55", "1e-999999999", "NaN",
                     "200", "12", "0012", "abc", "Personne âgée", "a|b", "D/F/81|E/H/7", "GAZ", "A", "B"]),
    st.text(alphabet="AZaz09 .:-/|é", max_size=12))


def _line(keys: list[str]) -> st.SearchStrategy[str]:
    pair = st.tuples(st.sampled_from(keys), VALUES).map(lambda kv: f"{kv[0]}={kv[1]}")
    odd = st.one_of(st.sampled_from(["", "  ", "sans egal", "=valeur", " = ", "{\"json\": 1}", "<xml/>"]),
                    st.text(alphabet="AZ=; \n", max_size=8))
    return st.integers(0, 7).flatmap(lambda n: odd if n == 0 else pair)  # mostly pairs, now and then an odd line


def _frame(base: list[str], keys: list[str], separator: str) -> st.SearchStrategy[str]:
    """Lines of a mostly valid frame (a few base lines dropped, others added or repeated), now and then
    in another order, joined."""
    keep = st.integers(0, 11).map(lambda n: n > 0)
    lines = st.tuples(st.lists(keep, min_size=len(base), max_size=len(base)), st.lists(_line(keys), max_size=6)).map(
        lambda parts: [line for line, kept in zip(base, parts[0], strict=True) if kept] + parts[1])
    return lines.flatmap(lambda found: st.just(found) | st.permutations(found)).map(separator.join)


@settings(max_examples=700, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_frame(ALPHA_LINES, ALPHA_KEYS, "\r\n"), profile=st.sampled_from(["lrm-alpha-text", "alpha-no-tables"]),
       encoding=st.sampled_from(["cp1252", "utf-8"]))
def test_alpha_frames_decode_as_they_did(contexts, text, profile, encoding):
    _same_both_ways(text.encode(encoding, "replace"), contexts[profile])


SYNTHETIC_LINES = ["ID=S1", "HUB=fr.health.samu440.S1", "VER=3", "QUAND=2026-11-25T10:00:00+01:00", "NAT=A",
                   "NAT2=CHUT", "LIEU=L01.00.00", "RISK=R01", "RISK=R02", "LAT=47.2", "LON=-1.5", "PAYS=BE",
                   "X1=un", "X2=deux", "OBS=note 1", "OBS=note 2", "DEM=oui", "MOY=VSAV", "CADRE=SAP",
                   "REP=vu", "REPST=REF", "APP=Martin", "VICTIMES=Durand/F/81|Petit/H/7||X/Q"]
SYNTHETIC_KEYS = sorted({line.partition("=")[0] for line in SYNTHETIC_LINES} | {"AUTRE", "VICTIMES"})


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_frame(SYNTHETIC_LINES, SYNTHETIC_KEYS, "\n"), separator=st.sampled_from(["\n", ";"]))
def test_synthetic_frames_decode_as_they_did(contexts, text, separator):
    """Inline codes, extras, the version, coordinates, the request flag, packed victims; both pair separators."""
    profile = "synthetic-newline" if separator == "\n" else "synthetic-semicolon"
    _same_both_ways(text.replace("\n", separator).encode("utf-8"), contexts[profile])


BETA_COLUMNS = ["B1", "2026-11-25T10:00:00+01:00", "101", "12", "3", "4|5", "1", "2", "2", "Rue", "Nantes",
                "44109", "47.2", "-1.5", "info", "Martin", "0611", "1", "obs", "O", "1", "txt", "VSAV", "1", "ok",
                "Durand/F/81"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(columns=st.lists(st.one_of(st.none(), VALUES), min_size=len(BETA_COLUMNS), max_size=len(BETA_COLUMNS) + 2))
def test_delimited_frames_decode_as_they_did(contexts, columns):
    values = [base if value is None else value for base, value in zip(BETA_COLUMNS + ["", ""], columns,
                                                                       strict=False)]
    _same_both_ways(";".join(values).encode("iso-8859-1", "replace"), contexts["lrm-beta-text"])


def _golden(suffixes: tuple[str, ...]) -> list[Path]:
    return sorted(p for p in (ROOT / "tests" / "golden").rglob("*") if p.suffix in suffixes)


@pytest.mark.parametrize("path", _golden((".txt",)), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_golden_text_frames_decode_as_they_did(contexts, path):
    profile = path.parent.name
    if profile not in contexts:
        pytest.skip(f"{profile} is not a legacy-text profile of this test")
    assert _same_both_ways(path.read_bytes(), contexts[profile])[0] == "decoded"


@pytest.mark.parametrize("path", _golden((".xml",)), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_golden_xml_sheets_decode_as_they_did(contexts, path, monkeypatch):
    """The XML adapter goes through the same field plan (``record_to_case``)."""
    ctx = contexts[path.parent.name]
    expected = _outcome(lambda data, c: _reference_xml_decode(data, c, monkeypatch), path.read_bytes(), ctx)
    got = _outcome(legacy_xml.LegacyXmlAdapter().decode, path.read_bytes(), ctx)
    assert got == expected
    assert got[0] == "decoded"


def test_a_well_formed_frame_is_read_in_one_pass(contexts, monkeypatch):
    """The one pass reads the frame's lines once: the kind check and the line parser are not called for a
    frame they accept (they run only to refuse, so their refusals are the ones the operator gets)."""
    called: list[str] = []
    for name in ("_check_kind", "_parse_keyvalue"):
        real = getattr(legacy_text, name)
        monkeypatch.setattr(legacy_text, name, lambda *a, _n=name, _r=real, **k: called.append(_n) or _r(*a, **k))
    data = "\r\n".join(ALPHA_LINES).encode("cp1252")
    decoded = legacy_text.LegacyTextAdapter().decode(data, contexts["lrm-alpha-text"])
    assert decoded.case.sender_case_id == "D1" and called == []
    with pytest.raises(InboundError) as refused:
        legacy_text.LegacyTextAdapter().decode(b"NUM_DOSSIER=D1\r\nsans egal", contexts["lrm-alpha-text"])
    assert refused.value.issues[0].code == "bad-record" and called == ["_parse_keyvalue"]


class _CountingValidator:
    """Stands in for a model's pydantic validator and writes down each call made through it."""

    def __init__(self, name: str, inner: Any, calls: list[str]) -> None:
        self.name, self.inner, self.calls = name, inner, calls

    def validate_python(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(self.name)
        return self.inner.validate_python(*args, **kwargs)


def test_the_case_is_validated_once_per_frame(contexts, monkeypatch):
    """One pydantic validation of the decoded case: its codes and notes are built by it, not one by one
    (the field-by-field way validated each Coded and Note, then the Case)."""
    calls: list[str] = []
    for model in (Case, Coded, Note, Patient):
        monkeypatch.setattr(model, "__pydantic_validator__",
                            _CountingValidator(model.__name__, model.__pydantic_validator__, calls))
    frame = "\r\n".join(line for line in ALPHA_LINES if not line.startswith(("VICT", "MOYEN_", "MISSION_")))
    decoded = legacy_text.LegacyTextAdapter().decode(frame.encode("cp1252"), contexts["lrm-alpha-text"])
    assert decoded.case.qualification.whats_happen is not None and decoded.case.notes
    assert calls == ["Case"]
    calls.clear()
    legacy_text.LegacyTextAdapter().decode(f"{frame}\r\nVICT1_NOM=Durand".encode("cp1252"),
                                           contexts["lrm-alpha-text"])
    assert calls == ["Patient", "Case"]  # a victim is checked when read (naming its line), then kept as is


def test_record_to_case_still_reads_a_record(contexts):
    """The XML adapter's entry point: a Record's entries, grouped, then the same plan."""
    ctx = contexts["lrm-alpha-text"]
    record = Record(entries=[Entry(line.partition("=")[0], line.partition("=")[2], f"line {n}")
                             for n, line in enumerate(ALPHA_LINES, start=1)])
    expected = _reference_record_to_case(Record(entries=list(record.entries)), ctx.profile, ctx)
    got = legacy_fields.record_to_case(record, ctx.profile, ctx)
    assert (got.case, got.dropped, got.warnings) == (expected.case, expected.dropped, expected.warnings)



def test_the_generated_reader_takes_profile_text_as_data_only(contexts):
    """Keys and extras names are written into the generated reader through ``repr`` only: a profile whose key
    and target name look like code reads them as text, and nothing else runs."""
    key = "K'] = 1; raise SystemExit(3); x = ['\"\nA"
    name = "a'] = 0 #\"\n"
    profile = Profile.model_validate({"name": "hostile-names", "adapter": "legacy-text", "fields": [
        {"key": "ID", "target": "case.sender_case_id", "required": True}, {"key": key, "target": f"extras.{name}"}]})
    plan = legacy_fields.build_plan(profile)
    nested: dict[str, Any] = {"qualification": {}, "location": {}}
    extras: dict[str, Any] = {}
    missing: list[Issue] = []
    plan.read({"ID": [Entry("ID", "1", "line 1")], key: [Entry(key, " v ", "line 2")]}, nested, extras, missing, [],
              {}, profile, contexts["lrm-alpha-text"].with_profile(profile))
    assert nested["sender_case_id"] == "1" and extras == {name: "v"} and missing == []


def _reference_plausible(value: datetime, text: str, profile: Profile, ctx: Any, where: str) -> datetime:
    window = profile.dates
    now = ctx.now if ctx.now.tzinfo is not None else ctx.now.replace(tzinfo=ZoneInfo(profile.timezone))
    earliest = now - timedelta(days=window.max_past_days)
    latest = now + timedelta(minutes=window.max_future_minutes)
    if earliest <= value <= latest:
        return value
    side = (f"more than {window.max_past_days} days in the past" if value < earliest
            else f"more than {window.max_future_minutes} minutes in the future")
    raise InboundError(f"{profile.name}: implausible date {text!r} ({side})",
                       [Issue(where, f"{text!r} is {side} of the bridge's clock ({now.isoformat(timespec='seconds')};"
                                     f" profile {profile.name} [dates] max_past_days={window.max_past_days},"
                                     f" max_future_minutes={window.max_future_minutes})", "bad-date")])


ZONES = st.sampled_from([None, UTC, ZoneInfo("Europe/Paris"), ZoneInfo("America/New_York"),
                         timezone(timedelta(hours=1)), timezone(timedelta(hours=-9, minutes=-30))])


@settings(max_examples=600, deadline=None)
@given(now=st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1)), now_zone=ZONES,
       astimezone=st.booleans(), offset=st.one_of(st.integers(-4000 * 86400, 4000 * 86400),
                                                   st.integers(-3 * 86400, 3 * 86400), st.integers(-7200, 7200)),
       value_zone=ZONES.filter(lambda z: z is not None), days=st.sampled_from([1, 30, 3650]),
       minutes=st.sampled_from([0, 1, 60, 527_040]))
def test_the_date_window_is_the_one_it_was(now, now_zone, astimezone, offset, value_zone, days, minutes):
    """Any clock (naive, a zone, a fixed offset as the translator's ``astimezone()`` gives) and any date: the
    same verdict and the same refusal as the two aware comparisons of the previous way."""
    clock = now.replace(tzinfo=now_zone)
    if astimezone and now_zone is not None:
        clock = clock.astimezone()  # the translator's clock: a fixed offset
    profile = load_profile("lrm-alpha-text").model_copy(update={"dates": DatesSpec(max_past_days=days,
                                                                                   max_future_minutes=minutes)})
    ctx = type("Ctx", (), {"now": clock})()
    value = (now + timedelta(seconds=offset)).replace(tzinfo=value_zone)
    expected = _outcome_of(_reference_plausible, value, "T", profile, ctx, "line 2")
    assert _outcome_of(legacy_fields._plausible, value, "T", profile, ctx, "line 2") == expected


def _outcome_of(call: Callable[..., Any], *args: Any) -> Any:
    try:
        return call(*args)
    except InboundError as exc:
        return ("refused", exc.message, exc.issues)
