"""``legacy-text``: key/value or delimited records of a raw 15-18 TCP link.

One frame (already cut by :mod:`bridge.core.framing`) is one message. Two
record styles, chosen by the profile: ``KEY=VALUE`` pairs separated by a pair
separator (CRLF by default), or values in fixed ``columns`` separated by ``;``.
Repeated fields repeat their key (key/value style) or pack their values with
the profile's ``list_separator`` (delimited style). The encoding is the
profile's (UTF-8, ISO-8859-1 or cp1252); a byte that is not valid in it is
refused with its offset rather than guessed. Going out, a character the link's
encoding lacks (``œ`` in ISO-8859-1) is transliterated or replaced, with a
warning, so a Hub message is never held back for one character.
"""

from __future__ import annotations

import codecs
import dataclasses
import re
import unicodedata
from functools import lru_cache

from bridge.core.adapters.base import Adapter, AdapterContext, Decoded, Encoded
from bridge.core.adapters.legacy_fields import (
    Entry,
    Record,
    case_to_entries,
    group_entries,
    grouped_to_case,
    patients_to_parts,
    profile_plan,
)
from bridge.core.adapters.profile import Profile
from bridge.core.canonical import Case
from bridge.core.errors import BridgeError, InboundError, Issue


def require_profile(ctx: AdapterContext, adapter: str) -> Profile:
    """The context's profile, checked to be one for ``adapter``."""
    profile = ctx.profile
    if not isinstance(profile, Profile):
        raise BridgeError(f"adapter {adapter} needs a profile (--profile NAME)",
                          [Issue("profile", "no legacy profile given", "no-profile")])
    if profile.adapter != adapter:
        raise BridgeError(f"profile {profile.name} is for {profile.adapter}, not {adapter}",
                          [Issue("profile", f"profile {profile.name} is for {profile.adapter}, not {adapter}",
                                 "bad-profile")])
    return profile


def decode_text(data: bytes, encoding: str) -> str:
    """Bytes -> text in the link's encoding, refusing invalid bytes with their offset."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InboundError(f"message is not valid {encoding}",
                           [Issue(f"byte {exc.start}", f"{data[exc.start:exc.start + 1]!r} is not valid "
                                                       f"{encoding}: {exc.reason}", "bad-encoding")]) from None


_HIGH_BYTE = re.compile(rb"[\x80-\xff]")


@lru_cache(maxsize=16)
def _is_utf(encoding: str) -> bool:
    return codecs.lookup(encoding).name.startswith("utf")


def utf8_on_single_byte_link(data: bytes, encoding: str) -> Issue | None:
    """A warning when a cp1252/ISO-8859-1 link carries what reads as UTF-8 ("Ã©" for "é").

    Every byte is valid in those encodings, so a wrongly configured LRM is not refused:
    its accents just arrive garbled at the other end. French text in a single-byte
    encoding almost never happens to be valid UTF-8 as well, so this is a strong hint.
    """
    if _is_utf(encoding):
        return None
    high = _HIGH_BYTE.search(data)
    if high is None:
        return None
    first = high.start()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    line = data.count(b"\n", 0, first) + 1
    return Issue(f"line {line}", f"byte {first}: the text reads as UTF-8 on a {encoding} link (accents will "
                                 f"arrive garbled): check the LRM's encoding or the profile's", "encoding-suspect")


# Characters the Hub sends that ISO-8859-1 (and sometimes cp1252) lacks, spelled the way
# call-takers would type them; anything else unencodable becomes "?".
TRANSLITERATIONS = {"œ": "oe", "Œ": "OE", "€": "EUR", "’": "'", "‘": "'", "“": '"', "”": '"', "–": "-",
                    "—": "-", "…": "...", "\u00a0": " ", "\u202f": " "}


def encode_text(text: str, encoding: str) -> tuple[bytes, list[Issue]]:
    """Text -> bytes; characters the link cannot carry are replaced (never refused), with a warning."""
    try:
        return text.encode(encoding), []
    except UnicodeEncodeError:
        pass
    out: list[str] = []
    lost: list[str] = []
    for char in text:
        try:
            char.encode(encoding)
            out.append(char)
        except UnicodeEncodeError:
            substitute = TRANSLITERATIONS.get(char)
            if substitute is None:
                decomposed = unicodedata.normalize("NFKD", char)
                substitute = "".join(c for c in decomposed if c.encode(encoding, "ignore")) or "?"
            out.append(substitute)
            lost.append(char)
    warning = Issue("text", f"{len(lost)} character(s) not in {encoding} replaced: "
                            f"{' '.join(sorted(set(lost)))}", "value-altered")
    return "".join(out).encode(encoding, "replace"), [warning]


class LegacyTextAdapter(Adapter):
    """KEY=VALUE or delimited legacy records, driven by a profile."""

    name = "legacy-text"
    version = "1.0"
    direction = "both"
    needs_profile = True
    media_type = "text/plain"

    def decode(self, data: bytes, ctx: AdapterContext) -> Decoded:
        profile = require_profile(ctx, self.name)
        text = decode_text(bytes(data), profile.encoding)
        spec = profile.text_spec
        plan = profile_plan(profile)
        record = None
        if spec.style == "keyvalue" and spec.pair_separator in ("\r\n", "\n"):
            by_key = _grouped_keyvalue(text, profile, _lines(text, profile), plan.keys)
        elif spec.style == "keyvalue":
            _check_kind(text, profile)  # the kind check reads newline-separated lines, the pairs are not
            record = _parse_keyvalue(text, profile)
            by_key = group_entries(record.entries)
        else:
            _check_kind(text, profile)
            by_key = _grouped_delimited(text, profile, plan.columns)
        decoded = grouped_to_case(by_key, record, profile, ctx, plan)
        suspect = utf8_on_single_byte_link(bytes(data), profile.encoding)
        if suspect is None:
            return decoded
        return dataclasses.replace(decoded, warnings=[*decoded.warnings, suspect])

    def encode(self, case: Case, ctx: AdapterContext) -> Encoded:
        profile = require_profile(ctx, self.name)
        entries, drops, warnings = case_to_entries(case, profile, ctx)
        patients = patients_to_parts(case, profile, ctx)
        if profile.text_spec.style == "keyvalue":
            text = _render_keyvalue(entries, patients, profile, warnings)
        else:
            text = _render_delimited(entries, patients, profile, warnings)
        data, altered = encode_text(text, profile.encoding)
        return Encoded(data, drops, warnings + altered)


def reference_in_frame(data: bytes, profile: Profile) -> str | None:
    """The case number (``case.sender_case_id`` field) of a frame, read without translating it.

    Used to address the NACK of a frame the bridge refuses: best effort, ``None`` when not found.
    """
    spec = profile.field_for("case.sender_case_id")
    if spec is None:
        return None
    if profile.adapter == "legacy-xml":
        from bridge.core.xmlsafe import parse_xml

        root = parse_xml(data)
        value = root.findtext(spec.key)
        return value.strip() if value and value.strip() else None
    text = data.decode(profile.encoding, errors="replace")
    spec_text = profile.text_spec
    if spec_text.style == "keyvalue":
        for line in text.replace("\r\n", "\n").split("\n"):
            key, sep, value = line.partition(spec_text.assign)
            if sep and key.strip() == spec.key and value.strip():
                return value.strip()
        return None
    values = text.rstrip("\r\n").split(spec_text.delimiter)
    index = spec_text.columns.index(spec.key) if spec.key in spec_text.columns else -1
    return values[index].strip() or None if 0 <= index < len(values) else None


def _lines(text: str, profile: Profile) -> list[str]:
    """A key/value record's lines, split by the profile's pair separator."""
    spec = profile.text_spec
    return text.replace("\r\n", "\n").split("\n") if spec.pair_separator in ("\r\n", "\n") \
        else text.split(spec.pair_separator)


def _check_kind(text: str, profile: Profile, pairs: list[str] | None = None) -> None:
    """Refuse (``wrong-kind``) what is plainly not this profile's record: a JSON or XML document,
    a delimited line with no delimiter, key/value pairs none of whose keys the profile knows.

    ``pairs``: the record's pairs already split (:func:`_lines`), so a frame is split once."""
    head = text.lstrip("\ufeff \t\r\n")[:1]
    found = None
    if not head:
        return  # an empty record is this kind, with its required fields missing (named as such)
    if head in ("{", "["):
        found = "a JSON document"
    elif head == "<":
        found = "an XML document"
    elif profile.text_spec.style == "delimited" and profile.text_spec.delimiter not in text:
        found = f"a line without the {profile.text_spec.delimiter!r} delimiter"
    elif profile.text_spec.style == "keyvalue":
        keys = profile_plan(profile).keys
        lines = text.replace("\r\n", "\n").split("\n") if pairs is None else pairs
        if not any(line.partition(profile.text_spec.assign)[0].strip() in keys for line in lines):
            found = "no key of the profile"
    if found is not None:
        style = (f"KEY{profile.text_spec.assign}VALUE pairs" if profile.text_spec.style == "keyvalue"
                 else f"{profile.text_spec.delimiter!r}-delimited columns")
        raise InboundError(f"{profile.name}: expected a {profile.editor or profile.name} record ({style}), "
                           f"found {found}", [Issue("line 1", f"expected {style}, found {found}", "wrong-kind")])


_WHERE = tuple(f"line {n}" for n in range(256))  # a frame's first lines' names, made once


def _grouped_keyvalue(text: str, profile: Profile, lines: list[str], keys: frozenset[str]) -> dict[str, list[Entry]]:
    """:func:`_check_kind`, :func:`_parse_keyvalue` and :func:`group_entries` of a record whose pairs are
    ``lines``, in one pass; what they refuse is refused by them, in the same order (kind first, then the
    first line that is not a pair), so the errors are theirs."""
    head = text.lstrip("\ufeff \t\r\n")[:1]
    if head in ("{", "[", "<"):
        _check_kind(text, profile, lines)  # a JSON or XML document: refused
    assign = profile.text_spec.assign
    known = not head  # an empty record is this kind (its required fields are named as missing)
    bad = 0
    by_key: dict[str, list[Entry]] = {}
    new = tuple.__new__
    number = 0
    for line in lines:
        number += 1
        key, sep, value = line.partition(assign)
        key = key.strip()
        if not known and key in keys:  # the kind check reads every line's key, a pair or not
            known = True
        if not sep or not key:
            if not bad and line.strip():
                bad = number
            continue
        entry = new(Entry, (key, value, _WHERE[number] if number < 256 else f"line {number}"))
        same = by_key.get(key)
        if same is None:
            by_key[key] = [entry]
        else:
            same.append(entry)
    if not known:
        _check_kind(text, profile, lines)  # no key of the profile: refused
    if bad:
        _parse_keyvalue(text, profile, lines)  # refuses the first line that is not KEY=VALUE
    return by_key


def _parse_keyvalue(text: str, profile: Profile, lines: list[str] | None = None) -> Record:
    spec = profile.text_spec
    assign = spec.assign
    record = Record()
    entries = record.entries
    for number, line in enumerate(_lines(text, profile) if lines is None else lines, start=1):
        key, sep, value = line.partition(assign)
        key = key.strip()
        if not sep or not key:
            if not line.strip():
                continue
            raise InboundError(f"{profile.name}: line {number} is not KEY{assign}VALUE",
                               [Issue(f"line {number}", f"expected KEY{assign}VALUE, got {line[:60]!r}",
                                      "bad-record")])
        entries.append(Entry(key, value, f"line {number}"))
    return record


def _parse_delimited(text: str, profile: Profile) -> Record:
    spec = profile.text_spec
    values = text.rstrip("\r\n").split(spec.delimiter)
    if len(values) > len(spec.columns):
        raise InboundError(f"{profile.name}: {len(values)} columns, the profile defines {len(spec.columns)}",
                           [Issue(f"column {len(spec.columns) + 1}", f"extra value {values[len(spec.columns)]!r}",
                                  "bad-record")])
    repeated = {f.key for f in profile.fields if f.repeated}
    record = Record()
    for index, (column, value) in enumerate(zip(spec.columns, values, strict=False), start=1):
        items = value.split(profile.list_separator) if column in repeated and value else [value]
        record.entries += [Entry(column, item, f"column {index} ({column})") for item in items]
    return record


def _grouped_delimited(text: str, profile: Profile,
                       columns: tuple[tuple[str, str, bool], ...]) -> dict[str, list[Entry]]:
    """:func:`_parse_delimited` and :func:`group_entries` in one pass, with each column's name in errors
    (``column 5 (VOIE)``) made once per profile (``columns``: :attr:`ProfilePlan.columns`); a line with
    more columns than the profile defines is refused by :func:`_parse_delimited` itself, word for word."""
    values = text.rstrip("\r\n").split(profile.text_spec.delimiter)
    if len(values) > len(columns):
        _parse_delimited(text, profile)  # refuses the extra column
    separator = profile.list_separator
    new = tuple.__new__
    by_key: dict[str, list[Entry]] = {}
    for (column, where, repeated), value in zip(columns, values, strict=False):
        if repeated and value:
            entries = [new(Entry, (column, item, where)) for item in value.split(separator)]
        else:
            entries = [new(Entry, (column, value, where))]
        same = by_key.get(column)
        if same is None:
            by_key[column] = entries
        else:
            same += entries
    return by_key


def _clean(value: str, forbidden: tuple[str, ...], key: str, warnings: list[Issue]) -> str:
    for token in forbidden:
        if token and token in value:
            warnings.append(Issue(key, f"{token!r} cannot appear in this field; replaced by a space",
                                  "value-altered"))
            value = value.replace(token, " ")
    return value


def _render_keyvalue(entries: list[Entry], patients: list[dict[str, str]], profile: Profile,
                     warnings: list[Issue]) -> str:
    separators = (profile.text_spec.pair_separator, "\n", "\r")
    lines = [f"{e.key}{profile.text_spec.assign}{_clean(e.value, separators, e.key, warnings)}" for e in entries]
    spec = profile.patients
    if spec is not None and patients:
        if spec.mode == "indexed":
            for number, parts in enumerate(patients, start=1):
                lines += [f"{spec.key.replace('{n}', str(number)).replace('{part}', legacy)}{profile.text_spec.assign}"
                          f"{_clean(value, separators, legacy, warnings)}" for legacy, value in parts.items()]
        else:
            lines.append(f"{spec.key}{profile.text_spec.assign}{_pack(patients, profile, separators, warnings)}")
    return profile.text_spec.pair_separator.join(lines)


def _render_delimited(entries: list[Entry], patients: list[dict[str, str]], profile: Profile,
                      warnings: list[Issue]) -> str:
    forbidden = (profile.text_spec.delimiter, "\n", "\r")
    columns: dict[str, list[str]] = {}
    for entry in entries:
        columns.setdefault(entry.key, []).append(
            _clean(entry.value, forbidden + (profile.list_separator,), entry.key, warnings))
    if profile.patients is not None and patients:
        columns[profile.patients.key] = [_pack(patients, profile, forbidden, warnings)]
    values = [profile.list_separator.join(columns.get(c, [])) for c in profile.text_spec.columns]
    while values and values[-1] == "":
        values.pop()
    return profile.text_spec.delimiter.join(values)


def _pack(patients: list[dict[str, str]], profile: Profile, forbidden: tuple[str, ...],
          warnings: list[Issue]) -> str:
    spec = profile.patients
    if spec is None:  # callers pack only for a profile with a patient list
        return ""
    bad = forbidden + (spec.item_separator, spec.part_separator)
    return spec.item_separator.join(
        spec.part_separator.join(_clean(parts.get(legacy, ""), bad, legacy, warnings) for legacy in spec.parts)
        for parts in patients)
