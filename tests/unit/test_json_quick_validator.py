"""The JSON Schema fast path (jsonschema-rs) gives the reference verdict (fastjsonschema) on every input.

``JsonValidator`` asks ``jsonschema-rs`` first and takes its yes as final; a no (or an instance it
cannot read) goes to fastjsonschema, the verdict the bridge always gave. So what must hold is: the
quick yes never accepts what the reference refuses. Checked here over mutations of every official
example (each field replaced by values on which JSON Schema readers are known to differ: Unicode
digits, leap seconds, integral decimals, NaN, lone surrogates, trailing newlines...), and the
reference is not even asked for a valid message (that is the saving).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import fastjsonschema
import pytest

from bridge.core.jsonstrict import loads_strict
from bridge.core.validation import JsonValidator

STRINGS: tuple[Any, ...] = (
    "", "12345", "\u0661\u0662\u0663\u0664\u0665", "+\u0663\u0663\u0666\u0667\u0661\u0668\u0663\u0660\u0665\u0662\u0663",
    "12345\n", "C09.03.00", "C\u0660\u0669.03.00", "2024-02-29T18:15:00+02:00", "2023-02-29T18:15:00+02:00",
    "2024-13-18T18:15:00+02:00", "2024-05-18T24:15:00+02:00", "2024-05-18T18:15:60+02:00",
    "2024-05-18T23:59:60+00:00", "2024-05-18T18:15:00+24:00", "2024-05-18T18:15:00+23:60",
    "\u0662\u0660\u0662\u0664-05-18T18:15:00+02:00", "2024-05-18 18:15:00+02:00", "2024-05-18T18:15:00.5+02:00",
    "2024-05-18T18:15:00Z", "2024-02-30", "fr", "STANDARD", "standard", "fr.health.samu440.X", "a@b.fr", "P12D",
    "\ud800", "x\x00y", "R13", "L01.01.01", "44018", "true",
)
NUMBERS: tuple[Any, ...] = (
    0, -1, True, None, Decimal("1.0"), Decimal("1E+2"), Decimal("-0"), Decimal("47.147005"), Decimal("1E-40"),
    10**40, 2**64, Decimal("NaN"), 1.0, 1.5, "1", [], {},
)


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _leaves(value, (*path, index))


def _replaced(document: Any, path: tuple[Any, ...], value: Any, *, delete: bool = False) -> Any:
    changed = copy.deepcopy(document)
    parent = changed
    for step in path[:-1]:
        parent = parent[step]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return changed


def _mutations(document: Any) -> Iterator[Any]:
    yield document
    for path, value in _leaves(document):
        if not path:
            continue
        if isinstance(value, (dict, list)):
            candidates: tuple[Any, ...] = (None, "x", [], {}, [value], 1)
        else:
            candidates = (*STRINGS, *NUMBERS, [value])
        for candidate in candidates:
            yield _replaced(document, path, candidate)
        yield _replaced(document, path, None, delete=True)
        if isinstance(value, dict):
            yield _replaced(document, path, {**value, "unexpected": 1})


def _schemas_with_examples(reference: Path) -> list[tuple[str, dict[str, Any], list[Path]]]:
    found = []
    for schema_path in sorted((reference / "json-schema").glob("*.schema.json")):
        name = schema_path.name.removesuffix(".schema.json")
        examples = sorted((reference / "examples" / name).glob("*.json"))
        if examples:
            found.append((name, json.loads(schema_path.read_text(encoding="utf-8")), examples))
    return found


def _payload(path: Path, schema: dict[str, Any]) -> Any:
    document = loads_strict(path.read_bytes())
    root = schema.get("title")
    return document[root] if isinstance(document, dict) and len(document) == 1 and root in document else document


def test_the_quick_yes_never_accepts_what_the_reference_refuses(hub_reference: Path) -> None:
    compared = disagreements = 0
    for name, schema, examples in _schemas_with_examples(hub_reference):
        validator = JsonValidator(schema)
        reference = fastjsonschema.compile({k: v for k, v in schema.items() if k != "$id"}, use_default=False)
        for example in examples[:1]:
            for instance in _mutations(_payload(example, schema)):
                try:
                    reference(instance)
                    expected = True
                except fastjsonschema.JsonSchemaException:
                    expected = False
                compared += 1
                if validator.is_valid(instance) is not expected:
                    disagreements += 1
                    pytest.fail(f"{name} {example.name}: verdict {not expected}, reference {expected}: "
                                f"{json.dumps(instance, default=repr)[:300]}")
    assert compared > 5_000 and disagreements == 0


def test_a_valid_message_does_not_reach_the_reference_validator(hub_reference: Path) -> None:
    """The saving itself: fastjsonschema (55 us for a 4 kB RC-EDA) is not run on a valid payload."""
    schema = json.loads((hub_reference / "json-schema" / "RC-EDA.schema.json").read_text(encoding="utf-8"))
    validator = JsonValidator(schema)
    payload = _payload(next((hub_reference / "examples" / "RC-EDA").glob("*.json")), schema)
    calls: list[Any] = []
    real = validator._fast
    validator._fast = lambda instance: calls.append(instance) or real(instance)  # type: ignore[method-assign]
    assert validator.is_valid(payload) and validator.issues(payload, "/createCase") == []
    assert calls == []
    broken = {**payload, "caseId": 12}
    assert not validator.is_valid(broken) and calls == [broken]  # a no goes to the reference


def _nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {"n": {"type": "integer"}, "s": {"type": "string", "pattern": "^\\d{2}$"},
                   "when": {"type": "string", "format": "date-time"}},
    "additionalProperties": False,
}


@pytest.mark.parametrize(("instance", "valid"), [
    ({"n": 1}, True),
    ({"n": Decimal("1.0")}, False),  # JSON Schema's integer, but not the reference's: refused as before
    ({"n": Decimal("1E+2")}, False),
    ({"n": 1.0}, True),  # a float without a fraction is the reference's integer
    ({"n": True}, False),
    ({"s": "\u0661\u0662"}, True),  # Python's \d takes Arabic-Indic digits: the reference's yes stands
    ({"s": "12\n"}, False),
    ({"s": "\ud800"}, False),  # a lone surrogate: jsonschema-rs cannot take it, the reference decides
    ({"when": "2024-05-18T18:15:60+02:00"}, True),  # a leap second at any minute, as the reference reads it
    ({"when": "2024-02-30T18:15:00+02:00"}, False),
    ({"s": "1" * 200_000}, False),  # a 200 kB field: refused, its pattern read in linear time
    ({"x": _nested(600)}, False),  # deeper than jsonschema-rs takes: the reference decides
    ({"n": Decimal("NaN")}, False),
])
def test_edge_verdicts_are_the_reference_ones(instance: dict[str, Any], valid: bool) -> None:
    validator = JsonValidator(SCHEMA)
    assert validator.is_valid(instance) is valid
    assert (validator.issues(instance) == []) is valid


# --- schema patterns in linear time (a near miss of the caseId pattern froze Python's re) --------------------------

def _official_patterns(reference: Path) -> set[str]:
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "pattern" and isinstance(value, str):
                    found.add(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for schema_path in (reference / "json-schema").glob("*.schema.json"):
        walk(json.loads(schema_path.read_text(encoding="utf-8")))
    return found


def _example_strings(reference: Path) -> set[str]:
    found: set[str] = set()
    for path in (reference / "examples").rglob("*.json"):
        for _, value in _leaves(json.loads(path.read_text(encoding="utf-8"))):
            if isinstance(value, str) and len(value) <= 60:
                found.add(value)
    return found


_EDITS = "aZ09_-.+@:T \n\u0661\u00e9"
_RUNS = re.compile(r"[A-Za-z0-9_-]+")


def _near(text: str) -> Iterator[str]:
    """``text`` and every string one edit away (insert, replace, delete) over a small alphabet."""
    yield text
    for position in range(len(text) + 1):
        for char in _EDITS:
            yield text[:position] + char + text[position:]
            if position < len(text):
                yield text[:position] + char + text[position + 1:]
        if position < len(text):
            yield text[:position] + text[position + 1:]


def test_linear_patterns_answer_as_python_re_on_the_official_patterns(hub_reference: Path) -> None:
    """For fastjsonschema (``$`` compiled as ``\\Z``) and jsonschema (``re.search``), every official pattern, every
    example string that matches it and every string one edit away from one: the same answer as Python's ``re``."""
    from bridge.core.validation import _draft7_pattern, _LinearPattern

    strings = _example_strings(hub_reference)
    compared = 0
    for source in sorted(_official_patterns(hub_reference)):
        reference = fastjsonschema.compile({"type": "string", "pattern": source})
        python = reference.__globals__["REGEX_PATTERNS"][source]  # fastjsonschema's own compilation
        fast = _LinearPattern(source, python, dollar_before_newline=False)
        full = _draft7_pattern(source)
        seeds = [text for text in strings if python.search(text)] or [""]
        for seed in seeds[:12]:
            for text in _near(seed):
                if max(map(len, _RUNS.findall(text)), default=0) > 12:
                    continue  # Python's re, the reference here, would take seconds to hours (the bug)
                compared += 1
                assert bool(fast.search(text)) is bool(python.search(text)), (source, text)
                assert bool(full.search(text)) is bool(re.search(source, text)), (source, text)
    assert compared > 5_000


@pytest.mark.timeout(60)  # Python's re alone: hours for the 40-character near miss, forever for 200 kB
@pytest.mark.parametrize("case_id", ["a" * 40 + "!", "a" * 200_000 + "!", "a" * 40 + "\u00e9"])
def test_a_near_miss_of_the_case_id_pattern_is_refused_at_once(hub_reference: Path, case_id: str) -> None:
    schema = json.loads((hub_reference / "json-schema" / "RC-EDA.schema.json").read_text(encoding="utf-8"))
    validator = JsonValidator(schema)
    payload = _payload(next((hub_reference / "examples" / "RC-EDA").glob("*.json")), schema)
    hostile = {**payload, "caseId": case_id}
    assert not validator.is_valid(hostile)
    issues = validator.issues(hostile, "/createCase")
    assert [(issue.path, issue.code) for issue in issues] == [("/createCase/caseId", "pattern")]


# --- the XSD side: xmlschema's full error pass matches pattern facets in linear time too ------------------------------

def _xsd_facets(reference: Path) -> list[tuple[str, Any]]:
    """(XSD pattern text, the pattern object xmlschema matches with) for every facet of the full envelope schema."""
    from xmlschema.validators.facets import XsdPatternFacets

    from bridge.refdata.bundle import _load_xmlschema

    schema = _load_xmlschema(reference / "xsd" / "EDXL-DE-full.xsd")
    return [(text, pattern) for component in schema.maps.iter_components()
            if isinstance(component, XsdPatternFacets)
            for text, pattern in zip(component.regexps, component.patterns, strict=True)]


def test_xsd_patterns_answer_as_xmlschemas_own_translation(hub_reference: Path) -> None:
    """Every pattern facet of the official XSDs, on every example string and every string one edit away from one
    (a final newline included): the swapped pattern answers as the ``re`` pattern xmlschema compiled."""
    from bridge.core.validation import _LinearXsdPattern

    facets = _xsd_facets(hub_reference)
    assert facets and all(isinstance(pattern, _LinearXsdPattern) for _, pattern in facets)
    strings = _example_strings(hub_reference)
    compared = 0
    for text_pattern, pattern in {text: pattern for text, pattern in facets}.items():
        python = pattern._python
        seeds = [text for text in strings if python.match(text)] or [""]
        for seed in seeds[:12]:
            for text in _near(seed):
                if max(map(len, _RUNS.findall(text)), default=0) > 12:
                    continue  # the reference, Python's re, would take seconds to hours (the bug)
                compared += 1
                assert bool(pattern.match(text)) is bool(python.match(text)), (text_pattern, text)
    assert compared > 2_000


@pytest.mark.timeout(60)  # xmlschema's Python re alone: 30 s at 40 characters here, hours at 60
@pytest.mark.parametrize("case_id", ["a" * 25 + "!", "a" * 60 + "!"])
def test_the_full_xml_error_pass_refuses_a_case_id_near_miss_at_once(hub_reference: Path, case_id: str) -> None:
    """The full error list of an invalid XML message (xmlschema, after libxml2 said no) names the caseId."""
    import xmlschema
    from lxml import etree

    import bridge
    from bridge.refdata.bundle import _load_xmlschema

    data = (hub_reference / "examples" / "RC-EDA" / "RC-EDA-FuiteDeGaz-AliceGregoireNormand.01.json").read_bytes()
    xml = bridge.translate(data, "xml", schemas=hub_reference)
    hostile = xml.replace(b"fr.health.samu440.DRFR154402413800236", case_id.encode())
    assert hostile != xml
    schema = _load_xmlschema(hub_reference / "xsd" / "EDXL-DE-full.xsd")
    errors = list(schema.iter_errors(xmlschema.XMLResource(etree.fromstring(hostile))))
    assert errors and all("caseId" in (error.path or "") for error in errors), [str(e)[:200] for e in errors]
