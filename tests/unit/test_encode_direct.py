"""The createCase encoder marks its own reads (issue 18, fourth pass): same payload, same drops, same warnings.

The RC-EDA encoder builds the Hub dict directly (no ``None`` to prune afterwards) and adds every
canonical path it reads to a set itself, so the hot path needs no read-through view. Two checks keep it
honest, for the golden cases and any generated case:

* against the encoder as it was (the ``Tracked`` view recording the reads, then ``prune``; frozen
  below): the same dict (key order included), the same dropped-field report, the same warnings;
* against itself run on a ``Tracked`` view (``RC_EDA.encode``): the paths it marks by hand are exactly
  the paths the view records, so a read added without its mark, or a mark without its read, fails here.
"""

from __future__ import annotations

import itertools
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.core.adapters import consumed, rc_eda
from bridge.core.adapters.base import AdapterContext
from bridge.core.adapters.codes import label_of
from bridge.core.adapters.consumed import Tracked, unread, unwrap_tracked
from bridge.core.adapters.hub_payload import encode_payload
from bridge.core.adapters.hubjson import hub_datetime, prune
from bridge.core.canonical import (
    AssistanceAnswer,
    AssistanceRequest,
    Caller,
    Case,
    Coded,
    Location,
    Note,
    Patient,
    Qualification,
)
from bridge.core.errors import BridgeError, HubErrorCode, Issue, OutboundError
from bridge.testing.messages import json_containers
from tests.unit.test_translate_once import _golden_cases

# ---- the encoder as it was (main 3fa022f), the reference ------------------------------------------------
_NOT_ID_CHAR = re.compile(r"[^A-Za-z0-9_-]")


def _old_encode_create_case(case: Any, ctx: AdapterContext) -> tuple[dict[str, Any], list[Issue]]:
    warnings: list[Issue] = []
    if case.qualification.whats_happen is None:
        raise OutboundError("createCase needs whatsHappen", [Issue("qualification.whats_happen",
                            "no CISU whatsHappen code", "missing-field")], HubErrorCode.INSUFFICIENT_DATA)
    created_at = case.created
    if created_at is None:
        warnings.append(rc_eda._NO_CREATION)
    created = hub_datetime(created_at or ctx.now)
    qualification = _old_qualification_dict(case, ctx)
    location = _old_location_dict(case, ctx, created)
    if "geometry" in (location or {}) and location["geometry"]:
        warnings.append(rc_eda._POSITION_TIME)
    payload: dict[str, Any] = {
        "caseId": rc_eda.case_id_for(case, ctx), "senderCaseId": case.sender_case_id, "creation": created,
        "referenceVersion": ctx.reference_version, "qualification": qualification, "location": location,
    }
    notes = [{"creation": hub_datetime(n.created) if n.created else None, "freetext": n.text} for n in case.notes]
    caller = case.caller
    phone = caller.phone if caller is not None else None
    if phone:
        warnings.append(rc_eda._CALLER_ALERT)
        payload["initialAlert"] = {
            "id": f"{ctx.sender_id}.alert.{_NOT_ID_CHAR.sub('', ctx.new_id())}", "reception": created,
            "reporting": "STANDARD", "notes": notes,
            "caller": {"callerContact": {"channel": "PERSONNE", "type": "TEL", "detail": phone},
                       "type": caller.type, "freetext": caller.free_text,
                       "detailedName": {"complete": name} if (name := caller.name) else None},
            "location": location, "qualification": qualification,
            "callTaker": {"organization": ctx.sender_id, "controlRoom": ctx.sender_id.rsplit(".", 1)[-1].upper()},
        }
    else:
        payload["freetext"] = [n.text for n in case.notes]
    payload["additionalInformation"] = {"customMap": _old_custom_map_items(case)}
    return prune(payload), warnings


def _old_qualification_dict(case: Any, ctx: AdapterContext) -> dict[str, Any]:
    q = case.qualification

    def coded(c: Any) -> dict[str, Any] | None:
        if not c:
            return None
        code, label = c.code, c.label
        return {"code": code, "label": label or label_of(ctx, code) or code}

    return {"riskThreat": [coded(c) for c in q.risk_threats], "whatsHappen": coded(q.whats_happen),
            "locationKind": coded(q.location_kind), "healthMotive": coded(q.health_motive),
            "victims": {"count": q.victims_count, "mainVictim": q.main_victim, "freetext": q.victims_text}}


def _old_location_dict(case: Any, ctx: AdapterContext, created: str) -> dict[str, Any]:
    loc = case.location
    point = None
    lat, lon, number, street = loc.lat, loc.lon, loc.number, loc.street
    if lat is not None and lon is not None:
        point = {"coord": {"lat": lat, "lon": lon, "precision": loc.precision or "INCONNUE"}}
    complete = " ".join(p for p in (number, street) if p) or None
    return {
        "locID": loc.loc_id or ctx.new_id(),
        "detailedAddress": {"complete": complete, "number": number,
                            "wayName": {"complete": street} if street else None} if complete else None,
        "city": {"name": loc.city, "inseeCode": loc.insee},
        "geometry": {"datetime": created, "point": point} if point else None, "country": loc.country,
        "freetext": loc.free_text,
    }


def _old_custom_map_items(case: Any) -> list[dict[str, Any]]:
    items = []
    if case.patients:
        value = [p.model_dump(exclude_none=True) for p in case.patients]
        items.append({"key": rc_eda.PATIENTS_KEY, "label": "Victimes (hub-bridge)",
                      "value": json.dumps(value, ensure_ascii=False, separators=(",", ":")),
                      "freetext": "; ".join(_old_patient_text(p) for p in case.patients)})
    if case.extras:
        items.append({"key": rc_eda.EXTRAS_KEY, "label": "Champs complémentaires (hub-bridge)",
                      "value": json.dumps(unwrap_tracked(case.extras), ensure_ascii=False, separators=(",", ":"))})
    return items


def _old_patient_text(patient: Any) -> str:
    name = " ".join(p for p in (patient.first_name, patient.last_name) if p) or "inconnu"
    details = ", ".join(p for p in (patient.sex, f"{patient.age} ans" if patient.age is not None else None) if p)
    return f"{name} ({details})" if details else name


def _old_encode(case: Case, ctx: AdapterContext) -> tuple[dict[str, Any], list[Issue], list[Issue]]:
    """What ``encode_create_case`` returns: the old tracked encoder's dict and warnings, and its reads' drops,
    except that a note's creation time is no longer counted as read when no initialAlert carries it (no phone:
    the createCase freetext holds the texts alone). Before, that time was read, not written, and not reported."""
    tracked = Tracked(case)
    payload, warnings = _old_encode_create_case(tracked, ctx)
    used = tracked.used
    if "initialAlert" not in payload:
        used = {path for path in used if not (path.startswith("notes/") and path.endswith(".created"))}
    return payload, unread(case, used, rc_eda.RC_EDA.drop_reason), warnings


# ---- helpers --------------------------------------------------------------------------------------------

def _ordered(value: Any) -> Any:
    """``value`` with every dict as its list of items, so key order is compared too (and types: 1 != True)."""
    if isinstance(value, dict):
        return [("dict", [(k, _ordered(v)) for k, v in value.items()])]
    if isinstance(value, (list, tuple)):
        return [type(value).__name__, [_ordered(v) for v in value]]
    return (type(value).__name__, value)


def _fresh(ctx: AdapterContext) -> AdapterContext:
    """``ctx`` with a new counter for ids: both encoders draw the same ids in the same order."""
    counter = itertools.count(1)
    return AdapterContext(**{**ctx.__dict__, "new_id": lambda: f"id.{next(counter)}"})


def _outcome(run, case: Case, ctx: AdapterContext) -> Any:
    try:
        payload, drops, warnings = run(case, _fresh(ctx))
    except BridgeError as exc:
        return ("refused", type(exc).__name__, exc.message, exc.issues)
    return _ordered(payload), drops, warnings


def _assert_same(case: Case, ctx: AdapterContext) -> None:
    new = _outcome(rc_eda.encode_create_case, case, ctx)
    assert new == _outcome(_old_encode, case, ctx)
    if new[0] == "refused":
        return
    payload = rc_eda.encode_create_case(case, _fresh(ctx))[0]
    ids = json_containers(payload)
    assert len(ids) == len(set(ids))  # no node shared (initialAlert's location is a copy): edits stay local
    marked: set[str] = set()
    tracked = Tracked(case)
    rc_eda._build_create_case(tracked, _fresh(ctx), marked)
    assert marked == tracked.used  # every read has its mark, every mark its read
    plain: set[str] = set()
    rc_eda._build_create_case(case, _fresh(ctx), plain)
    assert plain == tracked.used


# ---- tests ----------------------------------------------------------------------------------------------

def test_golden_cases_encode_as_before():
    cases = _golden_cases()
    assert len(cases) >= 10
    for ctx, case in cases:
        _assert_same(case, ctx)


def test_the_hot_path_reads_through_no_view(monkeypatch):
    """``encode_payload`` takes the encoder's own marks: no ``Tracked`` view is made for a createCase."""
    made: list[object] = []
    real_new = Tracked.__new__

    def counting(cls, *args, **kwargs):
        made.append(args[0] if args else None)
        return real_new(cls, *args, **kwargs)

    monkeypatch.setattr(consumed.Tracked, "__new__", counting)
    ctx, case = _golden_cases()[0]
    payload, _drops, _warnings = encode_payload(case, rc_eda.RC_EDA, _fresh(ctx))
    assert payload["caseId"] and made == []
    Tracked(case)
    assert len(made) == 1  # the spy counts a view when one is made


_text = st.one_of(st.none(), st.just(""), st.sampled_from(["a", "Rue X", "0601020304", "TIERS", "é"]))
_required_text = st.sampled_from(["", "obs", "Note é"])
_when = st.one_of(st.none(), st.just(datetime(2024, 5, 18, 16, 30, tzinfo=UTC)),
                  st.just(datetime(2024, 5, 18, 18, 30, tzinfo=timezone(timedelta(hours=2)))))
_coded = st.builds(Coded, code=st.sampled_from(["", "C04.00.00", "L01.00.00", "R01"]), label=_text)
_number = st.one_of(st.none(), st.sampled_from([Decimal(0), Decimal("47.2"), Decimal("-1.55")]))


@st.composite
def _cases(draw: st.DrawFn) -> Case:
    caller = draw(st.one_of(st.none(), st.builds(Caller, name=_text, phone=_text, type=_text, free_text=_text)))
    request = draw(st.one_of(st.none(), st.builds(AssistanceRequest, request_id=_text, free_text=_text)))
    answer = draw(st.one_of(st.none(), st.builds(AssistanceAnswer, status=st.just("ACCEPTE"), free_text=_text)))
    return Case(
        case_id=draw(_text), sender_case_id=draw(_text), version=draw(st.sampled_from([1, 2])), created=draw(_when),
        qualification=Qualification(
            whats_happen=draw(st.one_of(st.none(), _coded, _coded)), location_kind=draw(st.one_of(st.none(), _coded)),
            health_motive=draw(st.one_of(st.none(), _coded)), risk_threats=tuple(draw(st.lists(_coded, max_size=2))),
            victims_count=draw(_text), main_victim=draw(_text), victims_text=draw(_text)),
        location=Location(loc_id=draw(_text), number=draw(_text), street=draw(_text), city=draw(_text),
                          insee=draw(_text), country=draw(st.sampled_from(["FR", ""])), lat=draw(_number),
                          lon=draw(_number), precision=draw(_text), free_text=draw(_text)),
        caller=caller, request=request, answer=answer,
        notes=tuple(draw(st.lists(st.builds(Note, text=_required_text, created=_when), max_size=3))),
        patients=tuple(draw(st.lists(st.builds(Patient, last_name=_text, first_name=_text, sex=_text,
                                               age=st.one_of(st.none(), st.integers(0, 120)), free_text=_text),
                                     max_size=2))),
        extras=draw(st.dictionaries(st.sampled_from(["k", "health.x", "a.b"]), st.sampled_from(["", "v"]), max_size=2)),
    )


_CTX = [AdapterContext(now=datetime(2024, 1, 1, tzinfo=UTC), new_id=lambda: "", labels={"C04.00.00": "Chute"}),
        AdapterContext(now=datetime(2024, 1, 1, tzinfo=UTC), new_id=lambda: "", sender_id="", reference_version=""),
        AdapterContext(now=datetime(2024, 1, 1, tzinfo=UTC), new_id=lambda: "", sender_id="fr.health.samu440")]


@settings(max_examples=400, deadline=None)
@given(_cases(), st.sampled_from(_CTX))
def test_any_case_encodes_as_before(case, ctx):
    """Empty strings, partial coordinates, no phone, notes without text, patients, extras, a request and an
    answer (dropped), zero coordinates: the same dict, drops and warnings as the encoder that pruned."""
    _assert_same(case, ctx)


@pytest.mark.parametrize("ctx", _CTX)
def test_an_empty_id_is_pruned_as_before(ctx):
    """An id source that gives "" leaves locID out, as pruning did (the counter of ``_fresh`` is bypassed here)."""
    case = Case(qualification=Qualification(whats_happen=Coded(code="C04.00.00")))
    new = rc_eda.encode_create_case(case, ctx)
    old = _old_encode(case, ctx)
    assert _ordered(new[0]) == _ordered(old[0]) and new[1:] == old[1:]


def _prefixes(path: str) -> list[str]:
    return [path[:m.start()] for m in re.finditer(r"[./]", path)] + [path]


@settings(max_examples=300, deadline=None)
@given(_cases(), st.data())
def test_the_quick_walk_by_checkers_never_hides_a_drop(case, data):
    """``unread``'s quick walk (generated per model type and path) answers "nothing dropped" only when the exact
    way finds nothing: any generated case (defaults held or not, "" values, list items), any set of read paths."""
    paths = sorted({p for leaf in consumed.held(case) for p in _prefixes(leaf)} | {"", "extras", "notes", "caller"})
    used = set(data.draw(st.lists(st.sampled_from(paths), max_size=len(paths))))
    expected = [leaf for leaf in consumed.held(case) if not consumed._covered(leaf, used)]  # the exact way's leaves
    assert consumed._any_unread(case, "", used, top=True) == bool(expected)  # on these cases, never only "in doubt"
    assert bool(consumed.unread(case, used, "why")) == bool(expected)


def test_a_checker_is_made_once_per_model_type_and_path(monkeypatch):
    """The quick walk's straight-line checker of a (model type, path) is generated for the first case only."""
    monkeypatch.setattr(consumed, "_CHECKERS", {})
    made: list[tuple[str, str]] = []
    real = consumed._checker

    def counting(model, path, top, making=frozenset()):
        made.append((model.__name__, path))
        return real(model, path, top, making)

    monkeypatch.setattr(consumed, "_checker", counting)
    cases = [case for _ctx, case in _golden_cases()][:5]
    for case in cases:
        consumed._any_unread(case, "", set(), top=True)
    first = list(made)
    assert ("Case", "") in first and len(first) == len(set(first))
    for case in cases:
        consumed._any_unread(case, "", set(), top=True)
    assert made == first  # nothing made again


def test_a_note_time_the_createcase_cannot_carry_is_a_declared_drop():
    """Without a caller's phone there is no initialAlert: the notes travel as the createCase's freetext, texts
    alone, so each note's creation time is reported dropped (it was read, not written, and not reported)."""
    when = datetime(2024, 1, 1, 9, tzinfo=UTC)
    case = Case(qualification=Qualification(whats_happen=Coded(code="C04.00.00")),
                notes=(Note(text="obs", created=when), Note(text="sans heure")), caller=Caller(name="Dupont"))
    ctx = _CTX[0]
    payload, drops, _warnings = rc_eda.encode_create_case(case, ctx)
    assert payload["freetext"] == ["obs", "sans heure"] and "initialAlert" not in payload
    assert [d.path for d in drops] == ["caller.name", "notes/0.created"]
    with_phone = case.model_copy(update={"caller": Caller(name="Dupont", phone="0601020304")})
    payload, drops, _warnings = rc_eda.encode_create_case(with_phone, ctx)
    assert payload["initialAlert"]["notes"][0] == {"creation": "2024-01-01T09:00:00+00:00", "freetext": "obs"}
    assert drops == []


def test_list_items_make_no_checker(monkeypatch):
    """Checkers exist only for paths the model classes name: a case with 3,000 notes (a hostile list) is walked
    without generating code per item, and still answers (a note's unread time is found)."""
    monkeypatch.setattr(consumed, "_CHECKERS", {})
    when = datetime(2024, 1, 1, tzinfo=UTC)
    case = Case(notes=tuple(Note(text=f"n{i}", created=when) for i in range(3000)))
    used = {f"notes/{i}.text" for i in range(3000)} | {f"notes/{i}.created" for i in range(2999)}
    assert consumed._any_unread(case, "", used, top=True) is True  # notes/2999.created was not read
    assert consumed._any_unread(case, "", used | {"notes/2999.created"}, top=True) is False
    assert len(consumed._CHECKERS) < 20 and not any("/" in path for _model, path, _top in consumed._CHECKERS)
