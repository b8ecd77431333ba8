"""Shared by both legacy adapters: a parsed record <-> canonical case, driven by the profile.

The text and XML adapters only know their syntax; they hand this module a list of
``(key, value, where)`` entries (``where`` is ``line 3``, ``column 5`` or an
XPath, so every error names the spot in the operator's message) and get entries
back when encoding. Types, code tables, dates, required fields, victims and the
dropped-field report are all handled here, once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from bridge.core.adapters.base import AdapterContext, Decoded, dropped
from bridge.core.adapters.codes import lookup_warnings, map_code, map_code_detail
from bridge.core.adapters.flat import (
    CODE,
    CODED,
    EXTRA,
    NOTES,
    SECTION,
    TOP,
    finish,
    flatten,
    new_nested,
    place,
    placement,
)
from bridge.core.adapters.legacy_operations import (
    Group,
    decode_groups,
    encode_groups,
    indexed_key,
    indexed_pattern,
    not_carried,
)
from bridge.core.adapters.profile import FieldSpec, PatientsSpec, Profile
from bridge.core.canonical import Case, Patient
from bridge.core.errors import HubErrorCode, InboundError, Issue, OutboundError
from bridge.core.numbers import COORDINATE_RANGES, coordinate_problem, number_text_problem

DECIMALS = ("location.lat", "location.lon")
INTEGERS = ("case.version",)


class Entry(NamedTuple):
    """One legacy field occurrence and where it was found (a named tuple: a frame makes one per line)."""

    key: str
    value: str
    where: str = ""


@dataclass
class Record:
    """A parsed legacy message: its entries in order, and its victims (already split)."""

    entries: list[Entry] = field(default_factory=list)
    patients: list[dict[str, Entry]] = field(default_factory=list)
    resources: list[Group] = field(default_factory=list)
    missions: list[Group] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class FieldPlan:
    """One profile field, with what decoding it needs worked out once (``kind``: how its text is read)."""

    spec: FieldSpec
    key: str
    target: str
    required: bool
    repeated: bool
    kind: str  # wanted | codes | table | created | decimal | integer | text
    place: tuple[int, str, str]  # where its value goes in the nested case (:func:`flat.placement`)
    missing: str  # the text of its missing-field refusal


@dataclass(frozen=True)
class ProfilePlan:
    """What a profile's frames need, derived once per profile rather than per frame."""

    fields: tuple[FieldPlan, ...]
    keys: frozenset[str]  # the profile's field keys
    patient_pattern: re.Pattern[str] | None  # indexed victims (``VICT{n}_{part}``)
    read: Callable[..., None]  # the fields' reader, generated for this profile (:func:`compile_reader`)
    # a delimited profile's columns in order: (key, where it is named in errors, split by the list separator?)
    columns: tuple[tuple[str, str, bool], ...] = ()


def _field_kind(spec: FieldSpec) -> str:
    if spec.target == "request.wanted":
        return "wanted"
    if spec.codes:
        return "codes"
    if spec.table:
        return "table"
    if spec.target == "case.created":
        return "created"
    return "decimal" if spec.target in DECIMALS else "integer" if spec.target in INTEGERS else "text"


def build_plan(profile: Profile) -> ProfilePlan:
    """The :class:`ProfilePlan` of ``profile`` (see :func:`profile_plan`, which builds it once)."""
    pattern = None
    spec = profile.patients
    if spec is not None and spec.mode == "indexed":
        pattern = re.compile(re.escape(spec.key).replace(r"\{n\}", r"(?P<n>\d+)")
                             .replace(r"\{part\}", "(?P<part>" + "|".join(map(re.escape, spec.parts)) + ")") + "$")
    fields = tuple(FieldPlan(f, f.key, f.target, f.required, f.repeated, _field_kind(f), placement(f.target),
                             f"required field {f.key} ({f.target}) is missing or empty") for f in profile.fields)
    repeated = {f.key for f in profile.fields if f.repeated}
    columns = tuple((column, f"column {index} ({column})", column in repeated)
                    for index, column in enumerate(profile.text.columns if profile.text is not None else (), start=1))
    return ProfilePlan(fields=fields, keys=frozenset(f.key for f in profile.fields), patient_pattern=pattern,
                       read=compile_reader(fields, profile.name), columns=columns)


def _store(field_plan: FieldPlan, index: int, value: str, indent: str) -> list[str]:
    """The generated lines that put ``value`` (an expression, never None) where :func:`flat.place` puts it."""
    how, section, name = field_plan.place
    if how == SECTION and section in ("qualification", "location"):  # always in the nested dict
        return [f"{indent}nested[{section!r}][{name!r}] = {value}"]
    if how == SECTION:
        return [f"{indent}sub = nested.get({section!r})", f"{indent}if sub is None:",
                f"{indent}    sub = nested[{section!r}] = {{}}", f"{indent}sub[{name!r}] = {value}"]
    if how == TOP:
        return [f"{indent}nested[{name!r}] = {value}"]
    if how == EXTRA:
        return [f"{indent}extras[{name!r}] = {value}"]
    if how == CODE:
        return [f"{indent}code = {value}",
                f"{indent}nested['qualification'][{name!r}] = {{'code': code, 'label': labels.get(code)}}"]
    return [f"{indent}place(nested, extras, PLACES[{index}], {value}, labels)"]


def compile_reader(fields: tuple[FieldPlan, ...], name: str) -> Callable[..., None]:
    """The reader of a profile's fields, generated once per profile: for each field in order, what
    :func:`read_field` does, with a frame's usual case (one non-empty value) written out for that field's
    kind and place; anything else (no value, repeats, empty values) goes to :func:`read_field` itself.

    ``read(by_key, nested, extras, missing, warnings, labels, profile, ctx)``. The generated text holds
    no profile text but through ``repr`` (keys, section and field names) and indexes into the plan.
    """
    lines = ["def read(by_key, nested, extras, missing, warnings, labels, profile, ctx):", "    pop = by_key.pop"]
    for index, field_plan in enumerate(fields):
        general = f"read_field(FIELDS[{index}], found, nested, extras, missing, warnings, labels, profile, ctx)"
        lines += [f"    found = pop({field_plan.key!r}, None)", "    if found is None:",
                  f"        missing.append(MISSING[{index}])" if field_plan.required else "        pass",
                  "    elif len(found) == 1 and found[0][1] != '':"]
        if field_plan.kind == "text" and field_plan.repeated and field_plan.place[0] == NOTES:
            lines.append("        nested['notes'] = [{'text': found[0][1].strip()}]")
        elif field_plan.kind == "text" and not field_plan.repeated:
            lines += _store(field_plan, index, "found[0][1].strip()", "        ")
        elif field_plan.kind == "table" and not field_plan.repeated:  # _decode_planned's table way, written out
            lines += ["        text = found[0][1].strip()", "        mappings = ctx.mappings",
                      "        if text and mappings is not None:", "            try:",
                      f"                mapped = mappings.forward({field_plan.spec.table!r}, text)",
                      "            except (KeyError, InboundError):  # refused by the general way, as always",
                      f"                value = decode(FIELDS[{index}], found[0], profile, ctx, warnings)",
                      "            else:", "                if getattr(mapped, 'warning', None):",
                      f"                    warnings += lookup_warnings(mapped, found[0][2] or {field_plan.key!r})",
                      "                value = mapped.code", "        else:",
                      f"            value = decode(FIELDS[{index}], found[0], profile, ctx, warnings)",
                      "        if value is not None:", *_store(field_plan, index, "value", "            ")]
        elif not field_plan.repeated:
            lines += [f"        value = decode(FIELDS[{index}], found[0], profile, ctx, warnings)",
                      "        if value is not None:", *_store(field_plan, index, "value", "            ")]
        else:
            lines.append(f"        {general}")
        # one empty value (an empty column): what read_field does with it, skipped, a required field missing
        lines += ["    elif len(found) == 1:",
                  f"        missing.append(MISSING[{index}])" if field_plan.required else "        pass",
                  "    else:", f"        {general}"]
    namespace: dict[str, Any] = {
        "FIELDS": fields, "MISSING": tuple(Issue(f.key, f.missing, "missing-field") for f in fields),
        "PLACES": tuple(f.place for f in fields),
        "decode": _decode_planned, "read_field": read_field, "place": place, "InboundError": InboundError,
        "lookup_warnings": lookup_warnings}
    exec(compile("\n".join(lines), f"<fields of profile {name[:60]!r}>", "exec"), namespace)  # noqa: S102
    return namespace["read"]  # type: ignore[no-any-return]


_PLANS: dict[int, tuple[Profile, ProfilePlan]] = {}
_MAX_PLANS = 8  # each entry holds its profile: a loop re-loading profiles must not keep dozens (tests/hostile/test_memory.py)


def profile_plan(profile: Profile) -> ProfilePlan:
    """The plan of ``profile``, built on first use and kept (a profile is immutable; a reload makes a new one).

    Keyed by identity and holding the profile itself, so an id is never reused while its entry lives;
    bounded (cleared when full): a bridge runs one profile or a few; a caller re-loading its profile per frame
    (the console's try-a-frame, test rigs) rebuilds the plan rather than keeping dozens of profiles alive.
    """
    known = _PLANS.get(id(profile))
    if known is not None and known[0] is profile:
        return known[1]
    plan = build_plan(profile)
    if len(_PLANS) >= _MAX_PLANS:
        _PLANS.clear()
    _PLANS[id(profile)] = (profile, plan)
    return plan


def group_entries(entries: list[Entry]) -> dict[str, list[Entry]]:
    """A record's entries by key, each key's in the record's order."""
    by_key: dict[str, list[Entry]] = {}
    for entry in entries:
        same = by_key.get(entry.key)
        if same is None:
            by_key[entry.key] = [entry]
        else:
            same.append(entry)
    return by_key


def record_to_case(record: Record, profile: Profile, ctx: AdapterContext) -> Decoded:
    """Map a parsed record to a case; unknown keys are reported as dropped, never ignored."""
    return grouped_to_case(group_entries(record.entries), record, profile, ctx)


def grouped_to_case(by_key: dict[str, list[Entry]], record: Record | None, profile: Profile, ctx: AdapterContext,
                    plan: ProfilePlan | None = None) -> Decoded:
    """:func:`record_to_case` of a record whose entries are already grouped by key (``by_key``, emptied here);
    ``record``: its victims and operations already split, None when it has none (a text record).

    Each field's value goes straight where the case reads it (:func:`flat.place`); the case is
    validated once, as a whole (the one check of the LRM's values besides the fields' own).
    """
    if plan is None:
        plan = profile_plan(profile)
    labels = ctx.labels
    nested = new_nested()
    extras: dict[str, Any] = {}
    warnings: list[Issue] = []
    missing: list[Issue] = []
    plan.read(by_key, nested, extras, missing, warnings, labels, profile, ctx)
    if missing:
        raise InboundError(f"{profile.name}: {len(missing)} required field(s) missing", missing,
                           HubErrorCode.INSUFFICIENT_DATA)
    if by_key or (record is not None and (record.patients or record.resources or record.missions)):
        record = record if record is not None else Record()
        patients, patient_keys = _decode_patients(record, by_key, profile, ctx, warnings)
        operations, op_keys, op_drops = _decode_operations(record, by_key, profile, ctx, warnings)
        drops = [dropped(e.where or e.key, f"field {e.key}={e.value!r} is not in profile {profile.name}")
                 for key, entries in by_key.items() if key not in patient_keys | op_keys for e in entries]
    else:  # every key was a field's: no victim, no operation, nothing dropped
        patients, operations, drops, op_drops = [], None, [], []
    if operations is not None:
        nested["operations"] = operations
    try:
        case = Case.model_validate(finish(nested, extras, patients))
    except ValueError as exc:
        raise InboundError(f"{profile.name}: message does not make a valid case",
                           [Issue("/", str(exc).splitlines()[0], "invalid")]) from None
    return Decoded(case=case, dropped=drops + op_drops, warnings=warnings)


def read_field(field_plan: FieldPlan, found: list[Entry], nested: dict[str, Any], extras: dict[str, Any],
               missing: list[Issue], warnings: list[Issue], labels: Mapping[str, str], profile: Profile,
               ctx: AdapterContext) -> None:
    """One field's entries (``found``, in the record's order) read into the nested case, every case handled:
    empty values skipped, a missing required field listed, a repeated single field warned about (the
    first value kept), each value decoded by its kind (a code a table omits stays out)."""
    if len(found) > 1 or found[0].value == "":
        found = [e for e in found if e.value != ""]
    if not found:
        if field_plan.required:
            missing.append(Issue(field_plan.key, field_plan.missing, "missing-field"))
        return
    if len(found) > 1 and not field_plan.repeated:  # never drop the later value silently
        warnings.append(Issue(found[1].where, f"{field_plan.key} given {len(found)} times; the first value "
                              f"({found[0].where}) is used", "repeated-field"))
        found = found[:1]
    # a code whose table says "omit" decodes to None: the field stays empty (its warning says so)
    if field_plan.repeated:
        values = [_decode_planned(field_plan, e, profile, ctx, warnings) for e in found]
        if kept := [v for v in values if v is not None]:
            place(nested, extras, field_plan.place, kept, labels)
    elif (value := _decode_planned(field_plan, found[0], profile, ctx, warnings)) is not None:
        place(nested, extras, field_plan.place, value, labels)


def _decode_operations(record: Record, by_key: dict[str, list[Entry]], profile: Profile, ctx: AdapterContext,
                       warnings: list[Issue]) -> tuple[Any, set[str], list[Issue]]:
    spec = profile.operations
    if spec is None:
        return None, set(), []
    keys: set[str] = set()
    resources, missions = list(record.resources), list(record.missions)
    if spec.mode == "indexed":
        for template, groups in ((spec.resource_key, resources), (spec.mission_key, missions)):
            pattern = indexed_pattern(template)
            numbered: dict[int, Group] = {}
            for key, entries in by_key.items():
                match = pattern.match(key)
                if match:
                    keys.add(key)
                    numbered.setdefault(int(match["n"]), []).extend(
                        (match["part"], e.value, e.where or e.key) for e in entries)
            groups += [numbered[n] for n in sorted(numbered)]
    if not resources and not missions:
        return None, keys, []  # what decode_groups gives for no group, without building an empty Operations
    dates = (lambda text, where: _parse_datetime(text, profile, where),
             lambda value: _format_datetime(value, profile))
    operations, drops, op_warnings = decode_groups(resources, missions, spec, ctx, dates)
    warnings += op_warnings
    return operations, keys, drops


def operations_to_groups(case: Case, profile: Profile, ctx: AdapterContext
                         ) -> tuple[list[list[tuple[str, str]]], list[list[tuple[str, str]]], list[Issue]]:
    """The case's resources and missions as legacy part groups (empty when the profile has no place)."""
    if profile.operations is None:
        return [], [], []
    return encode_groups(case.operations, profile.operations, ctx, lambda value: _format_datetime(value, profile))


def case_to_entries(case: Case, profile: Profile, ctx: AdapterContext) -> tuple[list[Entry], list[Issue], list[Issue]]:
    """Entries for every profile field the case fills, plus what the profile cannot carry.

    A code a table maps only by degrading (parent, default, left empty) never stops the message:
    the field gets the degraded code, a ``value-altered`` warning says so, and the original code
    with its official label is added to the profile's notes field (see :func:`degrade_notes`).
    """
    flat = flatten(case)
    warnings: list[Issue] = []
    coded: dict[str, list[str | None]] = {}
    notes: list[str] = []
    for spec in profile.fields:
        value = flat.get(spec.target)
        if spec.table and value is not None:
            coded[spec.key] = [_encode_coded(spec, item, ctx, warnings, notes)
                               for item in (value if spec.repeated else [value])]
    for index, patient in enumerate(case.patients):  # the victims' sex degrades like any coded field
        if patient.sex is not None and profile.patients is not None and "sex" in profile.patients.parts.values():
            _encode_sex(patient.sex, index, profile.patients, profile.name, ctx, warnings, notes)
    if notes:
        if profile.field_for("notes") is not None:
            flat["notes"] = [*flat.get("notes", []), *notes]
        else:
            warnings.append(Issue("notes", f"{profile.name} has no notes field: the original codes are not "
                                           f"carried ({'; '.join(notes)})", "value-altered"))
    entries: list[Entry] = []
    used: set[str] = set()
    for spec in profile.fields:
        value = flat.get(spec.target)
        if spec.key in coded:
            value = [v for v in coded[spec.key] if v]
            value = value if spec.repeated else (value[0] if value else None)
        if value is None or value == []:
            if spec.required:
                raise OutboundError(f"{profile.name}: case has no value for required field {spec.key}",
                                    [Issue(spec.target, f"needed by {profile.name} field {spec.key}",
                                           "missing-field")], HubErrorCode.INSUFFICIENT_DATA)
            if spec.key in coded:
                used.add(spec.target)  # the value travels in the notes (omitted, with a warning)
            continue
        used.add(spec.target)
        for item in (value if spec.repeated else [value]):
            text = str(item) if spec.key in coded else _encode_value(spec, item, profile, ctx, warnings)
            entries.append(Entry(spec.key, text))
    drops = [dropped(t, f"{profile.name} has no field for {t}") for t in flat if t not in used]
    for target in CODED:  # the LRM carries a code; its label comes back from the official list, not from here
        coded_value = _coded_of(case, target)
        if coded_value is not None and coded_value.label and target in used:
            drops.append(dropped(f"{target}.label", f"{profile.name} carries the code, not its label "
                                                    f"{coded_value.label!r} (read back from the official list)"))
    drops += [dropped(f"qualification.risk_threats/{i}.label", f"{profile.name} carries risk codes, not labels")
              for i, risk in enumerate(case.qualification.risk_threats) if risk.label]
    drops += _unmapped_case_parts(case, profile)
    if profile.operations is None:
        drops += not_carried(case.operations, profile.name)
    elif profile.operations.mode == "indexed":
        resources, missions, op_warnings = operations_to_groups(case, profile, ctx)
        warnings += op_warnings
        for template, groups in ((profile.operations.resource_key, resources),
                                 (profile.operations.mission_key, missions)):
            entries += [Entry(indexed_key(template, n, part), text)
                        for n, group in enumerate(groups, start=1) for part, text in group]
    return entries, drops, warnings


def _encode_coded(spec: FieldSpec, value: Any, ctx: AdapterContext, warnings: list[Issue],
                  notes: list[str]) -> str | None:
    """A canonical code -> the LRM's code through the field's table, degrading (never refusing) towards the LRM."""
    mapped, issues = map_code_detail(ctx, spec.table or "", str(value), spec.target, "reverse")
    warnings += issues
    if mapped is None:  # no tables loaded: passed through, warned
        return str(value)
    how = str(getattr(mapped, "how", "row"))  # MappingSet results say how; a bare lookup is a row
    if how != "row":
        notes.append(degrade_note(spec.key, str(value), mapped.code, how, ctx))
    return mapped.code


def degrade_note(key: str, original: str, sent: str | None, how: str, ctx: AdapterContext) -> str:
    """The note the LRM operator reads: field, official code and label, and what was sent instead."""
    label = official_label(ctx, original)
    shown = f"{original} ({label})" if label else original
    if sent is None:
        return f"[{key}] code officiel {shown} : sans équivalent, champ laissé vide"
    why = {"inherited": "code parent", "parent-prefix": "code parent", "fallback": "code par défaut",
           "pass-through": "transmis tel quel"}.get(how, how)
    return f"[{key}] code officiel {shown} transmis comme {sent} ({why})"


def official_label(ctx: AdapterContext, code: str) -> str | None:
    """The label of a code in the context's labels, else in any loaded official list."""
    if code in ctx.labels:
        return ctx.labels[code]
    lists = getattr(ctx.nomenclatures, "lists", None) or {}
    for code_list in lists.values():
        entry = code_list.codes.get(code)
        if entry is not None and entry.label and entry.label != code:
            return str(entry.label)
    return None


def _coded_of(case: Case, target: str) -> Any:
    section, _, name = target.partition(".")
    return getattr(getattr(case, section), name, None)


def patients_to_parts(case: Case, profile: Profile, ctx: AdapterContext) -> list[dict[str, str]]:
    """Victims as ``legacy part name -> text`` dicts, in the profile's part order.

    The sex goes through the profile's sex table; its warnings and notes were already
    collected by :func:`case_to_entries` (the same lookup, so the same result).
    """
    if profile.patients is None:
        return []
    spec = profile.patients
    result = []
    for index, patient in enumerate(case.patients):
        parts: dict[str, str] = {}
        for legacy, part in spec.parts.items():
            value = getattr(patient, part)
            if value is None:
                continue
            text: str | None = str(value)
            if part == "sex":
                text = _encode_sex(str(value), index, spec, profile.name, ctx, [], [])
            if text:
                parts[legacy] = text
        result.append(parts)
    return result


def _sex_part(spec: PatientsSpec) -> str:
    return next((legacy for legacy, part in spec.parts.items() if part == "sex"), "sex")


def _encode_sex(sex: str, index: int, spec: PatientsSpec, profile_name: str, ctx: AdapterContext,
                warnings: list[Issue], notes: list[str]) -> str | None:
    """``HubSante.sexe`` -> the LRM's code; a code the table lacks degrades per its reverse policy, noted."""
    path = f"patients/{index}/sex"
    if spec.sex_table:
        mapped, issues = map_code_detail(ctx, spec.sex_table, sex, path, "reverse")
        warnings += issues
        if mapped is None:  # no tables loaded: passed through, warned
            return sex
        how = str(getattr(mapped, "how", "row"))
        if how != "row":
            notes.append(degrade_note(f"{_sex_part(spec)} victime {index + 1}", sex, mapped.code, how, ctx))
        return mapped.code
    if not spec.sex_codes:
        return sex
    reverse = {v: k for k, v in spec.sex_codes.items()}
    if sex not in reverse:
        warnings.append(Issue(path, f"sex {sex!r} is not in profile {profile_name}'s inline sex_codes "
                                    "(deprecated: use sex_table); passed through unchanged", "unmapped-code"))
    return reverse.get(sex, sex)


def _decode_sex(entry: Entry, value: str, spec: PatientsSpec, profile_name: str, ctx: AdapterContext,
                warnings: list[Issue]) -> str | None:
    """The LRM's sex code -> ``HubSante.sexe`` through the sex table (refused, or a fallback with a warning)."""
    where = entry.where or entry.key
    if spec.sex_table:
        code, issues = _map_frame_code(ctx, spec.sex_table, value, where, entry.key, profile_name,
                                       label="sex code", context="victims' sex")
        warnings += issues
        return code
    if spec.sex_codes and value not in spec.sex_codes:
        warnings.append(Issue(where, f"{entry.key}={value!r} is not in profile {profile_name}'s inline sex_codes "
                                     "(deprecated: use sex_table); passed through unchanged", "unmapped-code"))
    return spec.sex_codes.get(value, value)



def _map_frame_code(ctx: AdapterContext, table: str, value: str, where: str, key: str, profile_name: str, *,
                    label: str, context: str) -> tuple[str | None, list[Issue]]:
    """A frame's code through ``table``; a refusal names the key, the value and where it is in the frame."""
    try:
        return map_code(ctx, table, value, where, "forward")
    except InboundError as exc:
        if not exc.issues or exc.issues[0].code != "unmapped-code":
            raise
        raise InboundError(f"{profile_name}: {label} {value!r} of {key} has no mapping",
                           [Issue(where, f"{key}={value!r}: {exc.issues[0].message} "
                                         f"(profile {profile_name}, {context})", "unmapped-code"),
                            *exc.issues], exc.hub_code) from None

def _unmapped_case_parts(case: Case, profile: Profile) -> list[Issue]:
    drops: list[Issue] = []
    if case.patients and profile.patients is None:
        drops.append(dropped("patients", f"{profile.name} has no victim fields"))
    elif profile.patients is not None:
        for index, patient in enumerate(case.patients):
            drops += [dropped(f"patients/{index}/{name}", f"{profile.name} has no victim part for {name}")
                      for name, value in patient if value is not None and name not in profile.patients.parts.values()]
    drops += [dropped(f"notes/{i}/created", "legacy notes carry no timestamp")
              for i, note in enumerate(case.notes) if note.created is not None]
    return drops


def _decode_planned(plan: FieldPlan, entry: Entry, profile: Profile, ctx: AdapterContext,
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
        mappings = ctx.mappings
        if text and mappings is not None and spec.table:
            # map_code's own steps, one call deep; a lookup that raises is left to the general way below,
            # which asks again and refuses exactly as it always did (a failed lookup records nothing)
            try:
                mapped = mappings.forward(spec.table, text)
            except (KeyError, InboundError):
                pass
            else:
                if getattr(mapped, "warning", None):
                    warnings += lookup_warnings(mapped, where)
                return mapped.code
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


def _encode_value(spec: FieldSpec, value: Any, profile: Profile, ctx: AdapterContext,
                  warnings: list[Issue]) -> str:
    if spec.target == "request.wanted":
        return spec.true_value
    if spec.codes:
        reverse = {v: k for k, v in spec.codes.items()}
        if value not in reverse:
            raise OutboundError(f"{profile.name}: no legacy code for {value!r} in field {spec.key}",
                                [Issue(spec.target, f"{value!r} not in profile {profile.name} codes for "
                                                    f"{spec.key}", "unmapped-code")],
                                HubErrorCode.MESSAGE_CONVERSION_ERROR)
        return reverse[value]
    if spec.table:
        code, issues = map_code(ctx, spec.table, str(value), spec.target, "reverse")
        warnings += issues
        return code or ""
    if isinstance(value, datetime):
        return _format_datetime(value, profile)
    return str(value)


def _decode_patients(record: Record, by_key: dict[str, list[Entry]], profile: Profile, ctx: AdapterContext,
                     warnings: list[Issue]) -> tuple[list[Patient], set[str]]:
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
        assert pattern is not None  # built for every indexed patients section
        numbered: dict[int, dict[str, Entry]] = {}
        for key, entries in by_key.items():
            match = pattern.match(key)
            if match:
                numbered.setdefault(int(match["n"]), {})[match["part"]] = entries[0]
                keys.add(key)
        raw += [numbered[n] for n in sorted(numbered)]
    return [_patient(parts, spec, profile.name, ctx, warnings) for parts in raw], keys


def _patient(parts: dict[str, Entry], spec: PatientsSpec, profile_name: str, ctx: AdapterContext,
             warnings: list[Issue]) -> Patient:
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
    return Patient.model_validate(patient)


COMPACT_FORMAT = "%Y%m%d%H%M%S"


def _compact_datetime(text: str) -> datetime | None:
    """``%Y%m%d%H%M%S`` read by position: what strptime + the round-trip check below accept, without them.

    Only 14 ASCII digits with a year from 1000 (which strftime writes back as four digits) take
    this way; anything else (None) goes through strptime as before, so refusals are unchanged.
    A date out of range (month 13) raises ValueError, as strptime does.
    """
    if len(text) != 14 or not (text.isascii() and text.isdigit()) or text[0] == "0":
        return None
    return datetime(int(text[:4]), int(text[4:6]), int(text[6:8]), int(text[8:10]), int(text[10:12]),
                    int(text[12:]))


def _parse_datetime(text: str, profile: Profile, where: str) -> datetime:
    try:
        compact = _compact_datetime(text) if profile.datetime_format == COMPACT_FORMAT else None
        if compact is not None:
            parsed = compact
        elif profile.datetime_format == "iso":
            parsed = datetime.fromisoformat(text)
        else:
            parsed = datetime.strptime(text, profile.datetime_format)
            # strptime takes "1 or 2 digits" for most fields, so a 13-digit %Y%m%d%H%M%S stamp
            # parses as *some* date; only a text that formats back to itself is that date
            if parsed.strftime(profile.datetime_format) != text:
                raise ValueError(text)
    except ValueError:
        raise InboundError(f"{profile.name}: bad date {text!r}",
                           [Issue(where, f"{text!r} does not match {profile.datetime_format}", "bad-date")]) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(profile.timezone))
    return parsed


@lru_cache(maxsize=64)
def _window_deltas(max_past_days: int, max_future_minutes: int) -> tuple[timedelta, timedelta, timedelta]:
    """The plausibility window's spans (past, future, minus past), made once per window."""
    past = timedelta(days=max_past_days)
    return past, timedelta(minutes=max_future_minutes), -past


def _plausible(value: datetime, text: str, profile: Profile, ctx: AdapterContext, where: str) -> datetime:
    """``value`` when it lies in the profile's window around the injected clock; else a bad-date refusal."""
    window = profile.dates
    now = ctx.now if ctx.now.tzinfo is not None else ctx.now.replace(tzinfo=ZoneInfo(profile.timezone))
    past, future, before = _window_deltas(window.max_past_days, window.max_future_minutes)
    if type(now.tzinfo) is timezone:
        # a fixed offset (the translator's clock): now - past is exact, so the window is the distance from now
        # (one subtraction instead of two aware comparisons; the same verdict)
        if before <= value - now <= future:
            return value
    elif now - past <= value <= now + future:  # a zone's wall-clock arithmetic, as it always was
        return value
    earliest = now - past
    side = (f"more than {window.max_past_days} days in the past" if value < earliest
            else f"more than {window.max_future_minutes} minutes in the future")
    raise InboundError(f"{profile.name}: implausible date {text!r} ({side})",
                       [Issue(where, f"{text!r} is {side} of the bridge's clock ({now.isoformat(timespec='seconds')};"
                                     f" profile {profile.name} [dates] max_past_days={window.max_past_days},"
                                     f" max_future_minutes={window.max_future_minutes})", "bad-date")])


def _format_datetime(value: datetime, profile: Profile) -> str:
    if profile.datetime_format == "iso":
        return value.isoformat(timespec="seconds")
    return value.astimezone(ZoneInfo(profile.timezone)).strftime(profile.datetime_format)


# Degrees as an LRM writes them: at most 3 integer digits, at most 30 decimals, no exponent. Such a text is within
# every bound of bridge.core.numbers (35 characters, 33 significant digits, exponents from -30 to +2, finite),
# so the number checks below cannot refuse it: only the axis range is left to check.
_PLAIN_DEGREES = re.compile(r"[+-]?[0-9]{1,3}(?:\.[0-9]{1,30})?", re.ASCII)


def _parse_decimal(text: str, where: str, key: str, axis: str) -> Decimal:
    number = text.replace(",", ".")
    limit = COORDINATE_RANGES.get(axis)
    if limit is not None and _PLAIN_DEGREES.fullmatch(number):
        value = Decimal(number)
        if -limit <= value <= limit:
            return value  # what the general way below returns for it (tests/unit/test_translate_fifth.py)
    # bounded before Decimal() sees it: 1e-999999999 is "between -180 and 180" and a gigabyte written out
    problem = number_text_problem(number)
    if problem:
        raise InboundError(f"{key}: {text[:40]!r} is not a coordinate in degrees",
                           [Issue(where, f"{key}={text[:40]!r}: {problem[1]}", "bad-number")])
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise InboundError(f"{key}: {text!r} is not a number",
                           [Issue(where, f"{key}={text!r} is not a decimal number", "bad-number")]) from None
    reason = coordinate_problem(value, axis)
    if reason:
        raise InboundError(f"{key}: {text!r} is not a coordinate in degrees",
                           [Issue(where, f"{key}={text!r}: {reason}", "bad-number")])
    return value


def _parse_int(text: str, where: str, key: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= 9):
        raise InboundError(f"{key}: {text!r} is not a whole number",
                           [Issue(where, f"{key}={text!r} is not a whole number", "bad-number")])
    return int(text)
