"""The Hub decoders' faster paths give what the previous ones gave (issue 18, fifth pass).

``tracking.Reader`` (its ``get`` and the ``leftover`` walk that reports every unread leaf), the
RS-EDA decoder's leaf table (``rs_eda._Taken``: the leaves listed once, the unread ones turned into
typed extras) and both case decoders (RC-EDA: planned reads of the usual shape; RS-EDA: the fixed
pointers as constants; both with one ``Case`` validation, and the general way for anything else or any
error) were rewritten for speed. The previous versions are frozen below,
verbatim, and every decoder that uses them (RC-EDA, EMSI, RC-RI, RS-RI, RS-SR; RS-EDA and RS-EDA-MAJ) is run both ways
on the official examples, the golden createCase payloads and hypothesis-mutated payloads: the same
case (values, types, fields set), the same drops and warnings in the same order, or the same refusal
(type, message, issues, Hub code).
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.core.adapters import emsi, rc_eda, rc_ri, rs_eda, rs_ri, tracking
from bridge.core.adapters.base import AdapterContext, Decoded
from bridge.core.adapters.hub_payload import PayloadKind, decode_payload
from bridge.core.adapters.hubjson import parse_datetime
from bridge.core.canonical import Caller, Case, Coded, Location, Note, Patient, Qualification
from bridge.core.errors import BridgeError, Issue
from bridge.core.jsonstrict import loads_strict
from bridge.core.numbers import check_coordinate
from tests.conftest import reference_dir

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
CTX = AdapterContext(now=datetime(2024, 5, 18, 16, 0, tzinfo=UTC), new_id=lambda: "id-1")


# ---- the previous helpers, frozen (bridge/core/adapters/tracking.py and rs_eda.py before the fifth pass) ----

_MISSING = object()


@lru_cache(maxsize=1024)
def _old_pointer(root: str, path: tuple[str | int, ...]) -> str:
    return f"{root}/{'/'.join(map(str, path))}"


class OldReader:
    def __init__(self, data: Any, root: str = "") -> None:
        self.data = data
        self.root = root
        self._used: set[str] = set()
        self.warnings: list[Issue] = []

    def get(self, *path: str | int, default: Any = None) -> Any:
        node = self.data
        for step in path:
            try:
                node = node[step]
            except (KeyError, IndexError, TypeError):
                return default
        self._used.add(self.pointer(*path))
        return node

    def mark(self, *path: str | int) -> None:
        self._used.add(self.pointer(*path))

    def pointer(self, *path: str | int) -> str:
        return _old_pointer(self.root, path) if path else self.root

    def leftover(self) -> list[Issue]:
        found: list[Issue] = []
        used = self._used
        if self.root in used:
            return found

        def walk(node: Any, pointer: str) -> None:
            if isinstance(node, dict):
                items: Any = node.items()
            elif isinstance(node, list):
                items = enumerate(node)
            else:
                found.append(Issue(pointer, f"{node!r} has no canonical field", "dropped"))
                return
            for key, value in items:
                child = f"{pointer}/{key}"
                if child in used:
                    continue
                if isinstance(value, (dict, list)):
                    walk(value, child)
                else:
                    found.append(Issue(child, f"{value!r} has no canonical field", "dropped"))

        walk(self.data, self.root)
        return found


class OldTaken:
    def __init__(self, payload: dict[str, Any]) -> None:
        self.payload = payload
        self.leaves: dict[str, Any] = {}
        _old_list_leaves(payload, "", self.leaves)
        self.used: set[str] = set()

    get = rs_eda._Taken.get  # unchanged
    items = rs_eda._Taken.items  # unchanged

    def unused(self) -> dict[str, str]:
        used = self.used
        return {_old_extra_key(pointer): rs_eda._typed_text(value) for pointer, value in self.leaves.items()
                if pointer not in used}


def _old_list_leaves(node: Any, prefix: str, out: dict[str, Any]) -> None:
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        if isinstance(value, (dict, list)):
            _old_list_leaves(value, f"{prefix}/{key}", out)
        else:
            out[f"{prefix}/{key}"] = value


def _old_extra_key(pointer: str) -> str:
    return (rs_eda.HEALTH if (pointer + "/").startswith(rs_eda.HEALTH_ONLY) else rs_eda.OTHER) + pointer


def old_decode_create_case(payload: dict[str, Any], ctx: AdapterContext) -> Any:
    """rc_eda._decode_create_case before the fifth pass (verbatim but for the helpers' names)."""
    r = OldReader(payload, f"/{rc_eda.PAYLOAD}")
    r.mark("referenceVersion")
    alert = r.data.get("initialAlert") or {}
    for duplicate in ("location", "qualification"):
        if alert.get(duplicate) == payload.get(duplicate):
            r.mark("initialAlert", duplicate)
    patients, extras = rc_eda._custom_map(r)  # type: ignore[arg-type]  # unchanged
    case = Case(
        case_id=r.get("caseId"), sender_case_id=r.get("senderCaseId"),
        created=parse_datetime(r.get("creation"), r.pointer("creation")),
        qualification=_old_qualification(r), location=_old_location(r), caller=_old_caller(r),
        notes=tuple(_old_notes(r)), patients=tuple(patients), extras=extras,
    )
    return Decoded(case=case, dropped=r.leftover(), warnings=list(r.warnings))


def _old_coded(r: OldReader, *path: str | int) -> Coded | None:
    code = r.get(*path, "code")
    return Coded(code=code, label=r.get(*path, "label")) if code else None


def _old_qualification(r: OldReader) -> Qualification:
    risks = r.data.get("qualification", {}).get("riskThreat", [])
    return Qualification(
        whats_happen=_old_coded(r, "qualification", "whatsHappen"),
        location_kind=_old_coded(r, "qualification", "locationKind"),
        health_motive=_old_coded(r, "qualification", "healthMotive"),
        risk_threats=tuple(c for i in range(len(risks)) if (c := _old_coded(r, "qualification", "riskThreat", i))),
        victims_count=r.get("qualification", "victims", "count"),
        main_victim=r.get("qualification", "victims", "mainVictim"),
        victims_text=r.get("qualification", "victims", "freetext"),
    )


def _old_location(r: OldReader) -> Location:
    street = r.get("location", "detailedAddress", "wayName", "complete")
    number = r.get("location", "detailedAddress", "number")
    complete = r.data.get("location", {}).get("detailedAddress", {}).get("complete")
    if complete is not None and complete == rc_eda._address(number, street or complete):
        r.mark("location", "detailedAddress", "complete")
    coord = ("location", "geometry", "point", "coord")
    for axis in ("lat", "lon"):
        check_coordinate(r.get(*coord, axis), axis, r.pointer(*coord, axis))
    if street is None and complete:
        r.warnings.append(Issue(r.pointer("location", "detailedAddress", "complete"),
                                f"no wayName: the address line {complete!r} is the street (written back as "
                                "wayName.complete and detailedAddress.complete)", rc_eda.DERIVED))
    return Location(
        loc_id=r.get("location", "locID"), number=number, street=street or complete,
        city=r.get("location", "city", "name"), insee=r.get("location", "city", "inseeCode"),
        country=r.get("location", "country") or "FR", lat=r.get(*coord, "lat"), lon=r.get(*coord, "lon"),
        precision=r.get(*coord, "precision"), free_text=r.get("location", "freetext"),
    )


def _old_caller(r: OldReader) -> Caller | None:
    base = ("initialAlert", "caller")
    phone = None
    if r.data.get("initialAlert", {}).get("caller", {}).get("callerContact", {}).get("type") == "TEL":
        phone = r.get(*base, "callerContact", "detail")
        r.mark(*base, "callerContact", "type")
        r.mark(*base, "callerContact", "channel")
    caller = Caller(name=r.get(*base, "detailedName", "complete"), phone=phone,
                    type=r.get(*base, "type"), free_text=r.get(*base, "freetext"))
    return caller if any(v is not None for _, v in caller) else None


def _old_notes(r: OldReader) -> list[Note]:
    notes = []
    for index, _ in enumerate(r.data.get("initialAlert", {}).get("notes", [])):
        text = r.get("initialAlert", "notes", index, "freetext")
        created = parse_datetime(r.get("initialAlert", "notes", index, "creation"),
                                 r.pointer("initialAlert", "notes", index, "creation"))
        if text:
            notes.append(Note(text=text, created=created))
    notes += [Note(text=r.get("freetext", i)) for i, _ in enumerate(r.data.get("freetext", []))]
    return notes


OLD_KINDS = {"RC-EDA": dataclasses.replace(rc_eda.RC_EDA, decode=old_decode_create_case)}


def old_rs_decode(root: str, payload: dict[str, Any]) -> Any:
    """rs_eda._decode before the fifth pass (verbatim but for the helpers' names; ``_Taken`` is patched)."""
    t = rs_eda._Taken(payload)
    notes = []
    for index, _ in enumerate(t.items("initialAlert", "notes")):
        text = t.get("initialAlert", "notes", index, "freetext")
        if text:
            created = parse_datetime(t.get("initialAlert", "notes", index, "creation"),
                                     f"/{root}/initialAlert/notes/{index}/creation")
            notes.append(Note(text=text, created=created))
    case = Case(
        case_id=t.get("caseId"), sender_case_id=t.get("senderCaseId"),
        created=parse_datetime(t.get("creation"), f"/{root}/creation"),
        qualification=_old_rs_qualification(t), location=_old_rs_location(t), caller=_old_rs_caller(t),
        notes=tuple(notes), patients=tuple(_old_rs_patient(t, index) for index, _ in enumerate(t.items("patient"))),
        extras=t.unused(),
    )
    return Decoded(case=case, dropped=[])


def _old_rs_coded(t: Any, *path: str | int) -> Coded | None:
    code = t.get(*path, "code")
    return Coded(code=code, label=t.get(*path, "label")) if code else None


def _old_rs_qualification(t: Any) -> Qualification:
    risks = t.items("qualification", "riskThreat")
    return Qualification(
        whats_happen=_old_rs_coded(t, "qualification", "whatsHappen"),
        location_kind=_old_rs_coded(t, "qualification", "locationKind"),
        health_motive=_old_rs_coded(t, "qualification", "healthMotive"),
        risk_threats=tuple(c for i in range(len(risks)) if (c := _old_rs_coded(t, "qualification", "riskThreat", i))),
    )


def _old_rs_location(t: Any) -> Location:
    address = ("location", "detailedAddress")
    number, street = t.get(*address, "number"), t.get(*address, "wayName", "complete")
    complete = (t.payload.get("location") or {}).get("detailedAddress", {}).get("complete") if isinstance(
        (t.payload.get("location") or {}).get("detailedAddress"), dict) else None
    if complete is not None and complete in (street, " ".join(p for p in (number, street) if p)):
        t.get(*address, "complete")
    elif complete is not None and street is None:
        street = t.get(*address, "complete")
    coord = ("location", "geometry", "point", "coord")
    return Location(number=number, street=street, city=t.get("location", "city", "name"),
                    insee=t.get("location", "city", "inseeCode"), lat=t.get(*coord, "lat"), lon=t.get(*coord, "lon"),
                    precision=t.get(*coord, "precision"), free_text=t.get("location", "freetext"))


def _old_rs_caller(t: Any) -> Caller | None:
    base = ("initialAlert", "caller")
    contact = (((t.payload.get("initialAlert") or {}).get("caller") or {}).get("callerContact") or {})
    phone = None
    if contact.get("type") == "TEL" and contact.get("channel") == "PERSONNE":
        phone = t.get(*base, "callerContact", "detail")
        t.get(*base, "callerContact", "type")
        t.get(*base, "callerContact", "channel")
    caller = Caller(name=t.get(*base, "detailedName", "complete"), phone=phone, type=t.get(*base, "type"),
                    free_text=t.get(*base, "freetext"))
    return caller if any(v is not None for _, v in caller) else None


def _old_rs_patient(t: Any, index: int) -> Patient:
    base = ("patient", index)
    age_text = (((t.payload.get("patient") or [])[index] or {}).get("detail") or {}).get("age")
    age = None
    matched = rs_eda._AGE.match(age_text) if isinstance(age_text, str) else None
    if matched is not None:
        age = int(matched.group(1))
        t.get(*base, "detail", "age")
    return Patient(last_name=t.get(*base, "identity", "nonStrictFeatures", "lastName"),
                   first_name=t.get(*base, "identity", "nonStrictFeatures", "firstName"),
                   sex=t.get(*base, "identity", "strictFeatures", "sex"), age=age)


@contextmanager
def old_helpers() -> Iterator[None]:
    """The decoders run with the frozen helpers in place of the new ones."""
    saved = [(module, "Reader", module.Reader) for module in (rc_eda, emsi, rc_ri, rs_ri)]
    saved.append((rs_eda, "_Taken", rs_eda._Taken))
    with pytest.MonkeyPatch.context() as patch:
        for module, name, _ in saved:
            patch.setattr(module, name, OldTaken if name == "_Taken" else OldReader)
        patch.setattr(rs_eda, "_decode", old_rs_decode)
        yield


# ---- comparison ----------------------------------------------------------------------------------

def _outcome(run: Callable[[], Any]) -> tuple[Any, ...]:
    """What a decoder gave, comparable: the case (dump, types, fields set), drops, warnings; or its refusal."""
    try:
        decoded = run()
    except BridgeError as exc:
        return ("refused", type(exc), exc.message, list(exc.issues), exc.hub_code)
    except Exception as exc:  # a crash must be the same crash (it would be a bug on both sides)  # noqa: BLE001
        return ("crashed", type(exc), str(exc))
    case = decoded.case
    return ("decoded", case, _typed_dump(case), list(decoded.dropped), list(decoded.warnings))


def _typed_dump(model: Any) -> Any:
    """A model as nested (fields set, {field: (type, value)}): equal models with different types or sets differ."""
    if hasattr(model, "model_fields_set"):
        return (sorted(model.model_fields_set),
                {name: _typed_dump(value) for name, value in model.__dict__.items()})
    if isinstance(model, (tuple, list)):
        return [_typed_dump(item) for item in model]
    if isinstance(model, dict):
        return {key: _typed_dump(value) for key, value in model.items()}
    return (type(model).__name__, model)


def _both(run: Callable[[bool], Any]) -> None:
    new = _outcome(lambda: run(False))
    with old_helpers():
        old = _outcome(lambda: run(True))
    assert new == old


KINDS: dict[str, PayloadKind] = {"RC-EDA": rc_eda.RC_EDA, "EMSI": emsi.EMSI, "RC-RI": rc_ri.RC_RI,
                                 "RS-RI": rs_ri.RS_RI, "RS-SR": rs_ri.RS_SR}
HEALTH = ("RS-EDA", "RS-EDA-MAJ")


def _decode(folder: str, document: Any) -> Callable[[bool], Any]:
    """Run the decoder of ``folder`` on a copy of ``document``; ``old``: the frozen one (RC-EDA's body included)."""
    if folder in HEALTH:
        return lambda old: rs_eda.decode_health(copy.deepcopy(document), CTX)

    def run(old: bool) -> Any:
        kind = OLD_KINDS.get(folder, KINDS[folder]) if old else KINDS[folder]
        payload = copy.deepcopy(document).get(kind.payload) if isinstance(document, dict) else document
        return decode_payload(payload, kind, CTX)

    return run


def _examples() -> list[tuple[str, Any]]:
    reference = reference_dir()
    if reference is None:
        return []
    found = []
    for folder in (*KINDS, *HEALTH):
        for path in sorted((reference / "examples" / folder).glob("*.json")):
            found.append((folder, loads_strict(path.read_bytes())))
    return found


EXAMPLES = _examples()
GOLDEN_CASES = [("RC-EDA", loads_strict(path.read_bytes())) for path in sorted(GOLDEN.glob("*/*.expected.json"))
                if b'"createCase"' in path.read_bytes()]


def test_the_corpora_are_there(hub_reference: Path) -> None:
    assert {folder for folder, _ in EXAMPLES} == {*KINDS, *HEALTH} - {"RS-SR"} | (
        {"RS-SR"} if any((hub_reference / "examples" / "RS-SR").glob("*.json")) else set())
    assert len(GOLDEN_CASES) >= 8


@pytest.mark.parametrize(("folder", "document"), EXAMPLES + GOLDEN_CASES,
                         ids=[f"{folder}-{i}" for i, (folder, _) in enumerate(EXAMPLES + GOLDEN_CASES)])
def test_official_examples_and_golden_payloads_decode_alike(folder: str, document: Any) -> None:
    _both(_decode(folder, document))


# ---- hypothesis: mutated payloads ---------------------------------------------------------------

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.text(max_size=12),
                    st.decimals(allow_nan=False, allow_infinity=False, places=6, min_value=-200, max_value=200),
                    st.sampled_from(["TEL", "PERSONNE", "2024-05-18T18:15:00+02:00", "2024-05-18", "P54Y", "",
                                     "hub-bridge.patients", "hub-bridge.extras", "C09.03.00"]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                      max_leaves=8)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def _mutate(document: Any, data: st.DataObject) -> Any:
    document = copy.deepcopy(document)
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        paths = _paths(document)
        if not paths:
            break
        path = data.draw(st.sampled_from(paths), label="path")
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        action = data.draw(st.sampled_from(["replace", "delete", "add"]), label="action")
        if action == "delete":
            del parent[path[-1]]
        elif action == "add" and isinstance(parent[path[-1]], dict):
            parent[path[-1]][data.draw(st.sampled_from(["code", "label", "x", "freetext", "type", "0"]))] = (
                data.draw(values, label="added"))
        else:
            parent[path[-1]] = data.draw(values, label="value")
    return document


BASES = EXAMPLES + GOLDEN_CASES


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_payloads_decode_alike(data: st.DataObject) -> None:
    if not BASES:
        pytest.skip("official Hub Santé corpus not found: set $HUB_REFERENCE or place it at ../shared/hub-reference")
    folder, document = data.draw(st.sampled_from(BASES), label="base")
    _both(_decode(folder, _mutate(document, data)))


# ---- the helpers alone ---------------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(tree=values, paths=st.lists(st.lists(st.one_of(st.text(max_size=8), st.integers(0, 3)), max_size=3),
                                   max_size=6), marks=st.lists(st.lists(st.text(max_size=8), max_size=2), max_size=3),
       root=st.sampled_from(["", "/createCase"]))
def test_reader_reads_and_reports_alike(tree: Any, paths: list[list[Any]], marks: list[list[str]], root: str) -> None:
    new, old = tracking.Reader(tree, root), OldReader(tree, root)
    for path in paths:
        got_new, got_old = new.get(*path, default="absent"), old.get(*path, default="absent")
        assert got_new is got_old or got_new == got_old
    for path in marks:
        new.mark(*path)
        old.mark(*path)
    assert new._used == old._used
    assert new.leftover() == old.leftover()


class _Sub(dict):  # type: ignore[type-arg]
    """A dict subclass: still a container for both walks."""


def test_container_subclasses_and_odd_leaves_are_walked_alike() -> None:
    tree = {"a": _Sub({"b": 1.5, "c": [Decimal("1.0"), True, None]}), "d": (1, 2), "e": {"f": object}}
    new, old = tracking.Reader(tree, "/x"), OldReader(tree, "/x")
    assert new.leftover() == old.leftover()
    leaves_new: dict[str, Any] = {}
    leaves_old: dict[str, Any] = {}
    rs_eda._list_leaves(tree, "", leaves_new)
    _old_list_leaves(tree, "", leaves_old)
    assert leaves_new == leaves_old and list(leaves_new) == list(leaves_old)
    assert tracking.Reader(7, "/x").leftover() == OldReader(7, "/x").leftover()


def test_extra_keys_are_worked_out_once_per_pointer(hub_reference: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The ``health.``/``rs-eda.`` key of an unread leaf is remembered per pointer (the same pointers recur in
    every message of a shape): a second decode of a message asks for none of its keys again."""
    document = loads_strict(next(iter(sorted((hub_reference / "examples" / "RS-EDA").glob("*.json")))).read_bytes())
    rs_eda._EXTRA_KEYS.clear()
    calls: list[str] = []
    original = rs_eda._extra_key
    monkeypatch.setattr(rs_eda, "_extra_key", lambda pointer: calls.append(pointer) or original(pointer))
    first = rs_eda.decode_health(copy.deepcopy(document), CTX)
    assert calls and len(calls) == len(set(calls)) == len(first.case.extras)
    calls.clear()
    second = rs_eda.decode_health(copy.deepcopy(document), CTX)
    assert calls == [] and second.case == first.case


def test_remembered_extra_keys_are_bounded() -> None:
    rs_eda._EXTRA_KEYS.clear()
    for index in range(rs_eda._EXTRA_KEYS_LIMIT + 10):
        assert rs_eda._remembered_extra_key(f"/x/{index}") == f"rs-eda./x/{index}"
    assert len(rs_eda._EXTRA_KEYS) <= rs_eda._EXTRA_KEYS_LIMIT


def test_a_json_dump_of_what_the_old_and_new_walks_report_is_the_same_for_a_200kb_leaf() -> None:
    tree = {"a": {"b": "x" * 200_000, "c": [1, 2]}}
    new = tracking.Reader(tree, "/r").leftover()
    assert new == OldReader(tree, "/r").leftover()
    assert json.dumps([issue.path for issue in new]) == '["/r/a/b", "/r/a/c/0", "/r/a/c/1"]'


def test_the_usual_createcase_is_read_without_the_general_way(hub_reference: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Official examples and golden payloads take the planned reads: no ``Reader.get`` call (but the bridge's
    own customMap values, read as before), no general decode, one ``Case`` validation (the general way validates each sub-model on its own: ~9 per message)."""
    calls: list[Any] = []
    get = tracking.Reader.get

    def spied_get(self: tracking.Reader, *path: str | int, default: Any = None) -> Any:
        calls.append(path)
        return get(self, *path, default=default)

    monkeypatch.setattr(tracking.Reader, "get", spied_get)
    monkeypatch.setattr(rc_eda, "_decode_general", lambda payload, ctx: calls.append("general"))
    validations: list[type] = []
    for model in (Case, Coded, Qualification, Location, Caller, Note):
        original = model.__pydantic_validator__
        monkeypatch.setattr(model, "__pydantic_validator__", _Counting(original, model, validations))
    documents = [document for folder, document in EXAMPLES + GOLDEN_CASES if folder == "RC-EDA"]
    assert documents
    for document in documents:
        validations.clear()
        decoded = rc_eda._decode_create_case(copy.deepcopy(document["createCase"]), CTX)
        assert decoded.case.location is not None
        assert validations == [Case]
    # the only reads through a Reader: the bridge's own customMap values (hub-bridge.patients / extras)
    assert all(call[:2] == ("additionalInformation", "customMap") and call[3:] == ("value",) for call in calls)
    assert "general" not in calls


class _Counting:
    """A pydantic validator that records which model it validates."""

    def __init__(self, validator: Any, model: type, seen: list[type]) -> None:
        self.validator, self.model, self.seen = validator, model, seen

    def validate_python(self, *args: Any, **kwargs: Any) -> Any:
        self.seen.append(self.model)
        return self.validator.validate_python(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.validator, name)


@pytest.mark.parametrize("change", [{"location": None}, {"qualification": "x"}, {"initialAlert": []},
                                    {"freetext": None}, {"creation": "yesterday"}])
def test_an_unusual_createcase_goes_the_general_way(hub_reference: Path, change: dict[str, Any]) -> None:
    document = next(document for folder, document in EXAMPLES if folder == "RC-EDA")
    payload = {**copy.deepcopy(document["createCase"]), **change}
    used: list[bool] = []
    general = rc_eda._decode_general

    def spy(payload: dict[str, Any], ctx: AdapterContext) -> Any:
        used.append(True)
        return general(payload, ctx)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rc_eda, "_decode_general", spy)
        new = _outcome(lambda: rc_eda._decode_create_case(copy.deepcopy(payload), CTX))
    assert used == [True]
    assert new == _outcome(lambda: old_decode_create_case(copy.deepcopy(payload), CTX))


RC_EDA_BASES = [(folder, document) for folder, document in BASES if folder == "RC-EDA"]


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_createcase_payloads_decode_alike(data: st.DataObject) -> None:
    """The planned RC-EDA reads against the frozen decoder, on createCase payloads only (more of them)."""
    if not RC_EDA_BASES:
        pytest.skip("official Hub Santé corpus not found: set $HUB_REFERENCE or place it at ../shared/hub-reference")
    folder, document = data.draw(st.sampled_from(RC_EDA_BASES), label="base")
    _both(_decode(folder, _mutate(document, data)))


HEALTH_BASES = [(folder, document) for folder, document in BASES if folder in HEALTH]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_health_payloads_decode_alike(data: st.DataObject) -> None:
    """The planned RS-EDA reads against the frozen decoder, on RS-EDA and RS-EDA-MAJ payloads only."""
    if not HEALTH_BASES:
        pytest.skip("official Hub Santé corpus not found: set $HUB_REFERENCE or place it at ../shared/hub-reference")
    folder, document = data.draw(st.sampled_from(HEALTH_BASES), label="base")
    _both(_decode(folder, _mutate(document, data)))


def test_the_usual_health_case_is_validated_once(hub_reference: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Official RS-EDA and RS-EDA-MAJ examples take the planned reads: one ``Case`` validation, no general decode."""
    calls: list[str] = []
    monkeypatch.setattr(rs_eda, "_decode_general", lambda root, payload: calls.append("general"))
    validations: list[type] = []
    for model in (Case, Coded, Qualification, Location, Caller, Note, Patient):
        monkeypatch.setattr(model, "__pydantic_validator__", _Counting(model.__pydantic_validator__, model,
                                                                       validations))
    documents = [document for folder, document in EXAMPLES if folder in HEALTH]
    assert documents
    for document in documents:
        validations.clear()
        decoded = rs_eda.decode_health(copy.deepcopy(document), CTX)
        assert decoded.case.extras
        assert validations == [Case]
    assert calls == []


@pytest.mark.parametrize("change", [{"creation": "yesterday"}, {"caseId": 7}, {"patient": ["x"]},
                                    {"qualification": {"whatsHappen": {"code": "C09", "label": ["x"]}}}])
def test_an_unusual_health_case_goes_the_general_way(hub_reference: Path, change: dict[str, Any]) -> None:
    document = next(document for folder, document in EXAMPLES if folder == "RS-EDA")
    root = next(iter(document))
    payload = {root: {**copy.deepcopy(document[root]), **change}}
    used: list[bool] = []
    general = rs_eda._decode_general

    def spy(root: str, payload: dict[str, Any]) -> Any:
        used.append(True)
        return general(root, payload)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rs_eda, "_decode_general", spy)
        new = _outcome(lambda: rs_eda.decode_health(copy.deepcopy(payload), CTX))
    assert used == [True]
    with old_helpers():
        assert new == _outcome(lambda: rs_eda.decode_health(copy.deepcopy(payload), CTX))
    assert new[0] == "refused"


@given(st.lists(st.sampled_from([*rs_eda._ORDER, "x", "y", "zz"]), unique=True))
def test_health_payload_keys_are_ordered_as_before(keys: list[str]) -> None:
    payload = {key: index for index, key in enumerate(keys)}
    before = {key: payload[key] for key in sorted(payload, key=lambda k: rs_eda._ORDER.index(k)
                                                  if k in rs_eda._ORDER else 99)}
    after = rs_eda._order(payload, rs_eda.CREATE)
    assert list(after.items()) == list(before.items())
