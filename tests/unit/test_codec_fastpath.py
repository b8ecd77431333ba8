"""The JSON -> XML fast path: the text writer gives the element builder's bytes, and a ``validate`` of bytes
``translate`` has just written reuses what was checked without weakening a limit or a check."""

from __future__ import annotations

import glob
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import simplejson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

import bridge
from bridge.core.codec.json_to_xml import build_element, build_text, serialize
from bridge.core.codec.spec import ElementSpec, MessageSpec
from bridge.core.errors import InboundError
from bridge.core.jsonstrict import loads_strict, strings_are_xml_text
from bridge.core.xmlsafe import XmlLimits, new_parser, parse_xml
from bridge.refdata import hub_codec
from bridge.refdata.bundle import load_bundle
from bridge.refdata.hub_codec import dump_json, to_json
from tests.conformance.schema_strategy import XML_TEXT, from_schema
from tests.conftest import reference_dir

REF = reference_dir()
needs_reference = pytest.mark.skipif(REF is None, reason="official Hub Santé corpus not found (set $HUB_REFERENCE)")
GAS_LEAK = "examples/RC-EDA/RC-EDA-FuiteDeGaz-AliceGregoireNormand.01.json"

# a hand-made spec: no corpus needed
SPEC = MessageSpec(ElementSpec("root", "complex", children=(
    ElementSpec("text", "string"),
    ElementSpec("count", "integer"),
    ElementSpec("amount", "decimal"),
    ElementSpec("flag", "boolean"),
    ElementSpec("tags", "string", repeated=True),
    ElementSpec("items", "complex", repeated=True, children=(ElementSpec("name", "string"),)),
    ElementSpec("inner", "complex", children=(ElementSpec("name", "string"), ElementSpec("more", "any"))),
)))


def _element_bytes(payload: dict, spec: MessageSpec) -> bytes | None:
    try:
        return serialize(build_element(payload, spec))
    except InboundError:
        return None


def _typed(value: Any) -> Any:
    """A value with its types spelled out, so 1 != Decimal('1') != True and Decimal digits count."""
    if isinstance(value, dict):
        return {key: _typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_typed(item) for item in value]
    return (type(value).__name__, str(value))


def _read_back(data: bytes, root: str, spec_of) -> Any:
    """What ``validate``'s conversion check reads: XML -> JSON, then through JSON text."""
    return simplejson.loads(dump_json(to_json(parse_xml(data), root, spec_of)), use_decimal=True)


def _reading(tree: Any, root: str, spec_of) -> Any:
    """The JSON reading of a tree, or the refusal it gives."""
    try:
        return _typed(to_json(tree, root, spec_of))
    except InboundError as exc:
        return exc.issues


def _check_writer(payload: dict, spec: MessageSpec, spec_of=None, bundle=None) -> bool:
    """The writer gives the element builder's bytes (or steps aside); when it says faithful, the read-back
    form is exactly the payload. The tree translate keeps (parsed without the indentation between elements)
    reads back and, with a ``bundle``, gets the XSD verdict of the full tree. Returns whether the writer
    handled it."""
    text = build_text(payload, spec)
    expected = _element_bytes(payload, spec)
    if text is None:
        return False
    assert text.data == expected
    root = parse_xml(text.data)
    kept = etree.fromstring(text.data, new_parser(remove_blank_text=True))
    lookup = spec_of or (lambda name: spec)
    assert _reading(kept, spec.name, lookup) == _reading(root, spec.name, lookup)
    if bundle is not None:
        xsd = bundle.xml_validator(spec.name)
        assert xsd.is_valid(kept) == xsd.is_valid(root)
    assert text.elements == int(root.xpath("count(//*)"))
    assert not root.xpath("/*" + "/*" * text.depth) and root.xpath("/*" + "/*" * (text.depth - 1))
    if text.faithful:
        lookup = spec_of or (lambda name: spec)
        assert _typed(_read_back(text.data, spec.name, lookup)) == _typed({spec.name: payload})
    return True


@pytest.mark.parametrize(("payload", "faithful"), [
    ({"text": "plain"}, True),
    ({"text": "a & b < c > d \r\n\t 'q' \"dq\" ]]>"}, True),
    ({"text": ""}, True),
    ({"text": "   "}, True),
    ({"text": " \n\t ", "inner": {"name": "\n  "}}, True),
    ({"text": "é ü 東京 \U0001f691 \u00a0 \u2028"}, True),
    ({"count": 12, "amount": Decimal("47.147005"), "flag": True}, True),
    ({"amount": Decimal("-0.0"), "flag": False, "count": -3}, True),
    ({"amount": Decimal("1.5E+1")}, False),  # written 15, read back as the integer 15
    ({"amount": Decimal("1E-7")}, False),  # written in plain notation, digits differ
    ({"amount": 12}, False),  # an int under a decimal reads back as Decimal
    ({"count": "12"}, False),  # a string under an integer reads back as 12
    ({"text": 12}, False),  # a number under a string reads back as "12"
    ({"flag": "true"}, False),
    ({"tags": ["a", "b"], "items": [{"name": "x"}, {}]}, True),
    ({"tags": "a"}, False),  # a single value under a repeating element reads back as an array
    ({"text": None, "count": 1}, False),  # dropped
    ({"tags": [], "count": 1}, False),
    ({"inner": {}, "count": 1}, False),
    ({"inner": {"name": None}}, False),  # an element with nothing in it: <inner/>, read back as {}
    ({"items": [{"name": None}]}, False),
    ({}, True),
])
def test_text_writer_matches_the_element_builder(payload: dict, faithful: bool) -> None:
    """Same bytes as build_element + serialize, and ``faithful`` exactly when nothing was normalised."""
    assert _check_writer(payload, SPEC)
    assert build_text(payload, SPEC).faithful is faithful


@pytest.mark.parametrize("payload", [
    {"text": "nul \x00"}, {"text": "bell \x07"}, {"text": "lone \ud800"}, {"text": "\ufffe"},
    {"inner": {"more": {"open": "content"}}},  # open content: the element builder marks it
    {"unknown": 1}, {"count": [1, 2]}, {"items": "x"}, {"items": [None]}, {"count": Decimal("NaN")},
    {"count": 10**50}, {"text": {"a": 1}}, {"tags": [["nested"]]},
])
def test_text_writer_steps_aside_for_what_only_the_element_builder_judges(payload: dict) -> None:
    """Open content, characters XML cannot carry, unknown fields, wrong shapes, refused numbers: None, so the
    element builder gives its own output or its own error naming the field."""
    assert build_text(payload, SPEC) is None


@given(st.fixed_dictionaries({}, optional={
    "text": st.text(XML_TEXT, max_size=20) | st.integers(),
    "count": st.integers(-10**45, 10**45) | st.text(max_size=3),
    "amount": st.decimals(allow_nan=False, allow_infinity=False) | st.integers() | st.none(),
    "flag": st.booleans() | st.none(),
    "tags": st.lists(st.text(XML_TEXT, max_size=5), max_size=2) | st.text(XML_TEXT, max_size=3),
    "items": st.lists(st.fixed_dictionaries({}, optional={"name": st.text(XML_TEXT, max_size=4) | st.none()}),
                      max_size=2),
}))
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_text_writer_property(payload: dict) -> None:
    """Any mix of values: the writer agrees with the element builder byte for byte, or steps aside."""
    _check_writer(payload, SPEC)


def _fresh(spec: MessageSpec) -> MessageSpec:
    """The same spec with empty memos (the module's SPEC is shared by every test)."""
    def copy(element: ElementSpec) -> ElementSpec:
        return ElementSpec(element.name, element.kind, element.repeated, tuple(map(copy, element.children)))
    return MessageSpec(copy(spec.root), spec.target_namespace)


def test_text_writer_sorts_each_key_set_once(monkeypatch) -> None:
    """The XSD order of an object's keys is worked out once per key set and element, then remembered."""
    from bridge.core.codec import json_to_xml

    spec = _fresh(SPEC)
    sorts: list[tuple[str, ...]] = []
    real = json_to_xml._order
    monkeypatch.setattr(json_to_xml, "_order", lambda value, element: sorts.append(tuple(value)) or real(value, element))
    payload = {"inner": {"name": "n"}, "text": "t", "items": [{"name": "a"}, {"name": "b"}], "count": 1}
    first = build_text(payload, spec)
    assert first is not None
    for _ in range(3):
        again = build_text(payload, spec)
        assert again is not None and again.data == first.data
    assert sorted(sorts) == [("inner", "text", "items", "count"), ("name",), ("name",)]


def test_text_writer_asks_no_abstract_class_about_numbers() -> None:
    """Empty arrays and objects are recognised by their type: ``Decimal == []`` asked numbers.Rational, an ABC,
    twice per number (a Python-level isinstance check each time)."""
    import sys

    calls: list[str] = []

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "call":
            calls.append(frame.f_code.co_name)

    payload = {"amount": Decimal("47.147005"), "count": 3, "text": "t", "items": [{"name": "n"}]}
    sys.setprofile(profile)
    try:
        text = build_text(payload, SPEC)
    finally:
        sys.setprofile(None)
    assert text is not None and b"<amount>47.147005</amount>" in text.data
    assert "__instancecheck__" not in calls


class _EmptyList(list):
    pass


class _EmptyDict(dict):
    pass


@pytest.mark.parametrize("value", [_EmptyList(), _EmptyDict(), _EmptyList(["a"])])
def test_text_writer_steps_aside_for_container_subclasses(value: Any) -> None:
    """A caller's list or dict subclass goes to the element builder, which decides as it always has."""
    payload = {"tags": value, "inner": value, "text": "t"}
    assert build_text(payload, SPEC) is None


@pytest.mark.parametrize(("text", "plain"), [
    ('{"root": {"text": "Maison particulière, à l\'intérieur 東京 \U0001f691"}}', True),
    ('{"root": {"text": "a & b"}}', False), ('{"root": {"text": "a < b"}}', False), ('{"root": {"text": "a > b"}}', False),
    ('{"root": {"text": "line\\nnext"}}', False), ('{"root": {"text": "\\u0001"}}', False),
    ('{"root": {"text": "\ufffe"}}', False), ('{"root": {"text": "\uffff"}}', False), ('{"root": {"text": "\uff01"}}', True),
    ('{\r\n"root": {"text": "x"}\r\n}', True),
])
def test_json_text_says_whether_its_strings_are_xml_text(text: str, plain: bool) -> None:
    assert strings_are_xml_text(text.encode("utf-8")) is plain


_ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    ["&", "<>", "\r", "\x01", "\x7f", "\ufffe", "\uffff", "\ud7ff", "\ue000", "]]>", "\\", '"', "\u2028"])


@given(st.fixed_dictionaries({}, optional={"text": _ANY_TEXT, "tags": st.lists(_ANY_TEXT, max_size=3),
                                           "inner": st.fixed_dictionaries({}, optional={"name": _ANY_TEXT})}),
       st.booleans())
@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_strings_written_unchecked_only_when_the_json_text_vouches(payload: dict, ascii_only: bool) -> None:
    """Whenever the JSON text passes the scan, writing its strings without checking them gives the checked
    writer's result (same bytes, or the same step aside)."""
    data = json.dumps({"root": payload}, ensure_ascii=ascii_only).encode("utf-8")
    if not strings_are_xml_text(data):
        return
    document = loads_strict(data)["root"]
    checked, unchecked = build_text(document, SPEC), build_text(document, SPEC, plain_strings=True)
    assert (checked and (checked.data, checked.elements, checked.depth, checked.faithful)) == \
        (unchecked and (unchecked.data, unchecked.elements, unchecked.depth, unchecked.faithful))


def test_translate_writes_plain_strings_without_looking_at_each(gas_leak: bytes) -> None:
    """The official RC-EDA example passes the scan, so its 70 string leaves are written unchecked
    (no isprintable call); one with an ampersand is checked, and escaped."""
    import sys

    def isprintable_calls(data: bytes) -> tuple[int, bytes]:
        calls: list[object] = []

        def profile(frame: Any, event: str, arg: Any) -> None:
            if event == "c_call" and getattr(arg, "__name__", "") == "isprintable":
                calls.append(arg)

        sys.setprofile(profile)
        try:
            xml = bridge.translate(data, "xml", schemas=REF)
        finally:
            sys.setprofile(None)
        return len(calls), xml

    assert strings_are_xml_text(gas_leak)
    count, xml = isprintable_calls(gas_leak)
    assert count == 0 and b"<label>Fuite de gaz</label>" in xml
    document = loads_strict(gas_leak)
    document["createCase"]["location"]["freetext"] = "gaz & fumée"
    count, xml = isprintable_calls(simplejson.dumps(document, use_decimal=True, ensure_ascii=False).encode())
    assert count > 50 and b"<freetext>gaz &amp; fum\xc3\xa9e</freetext>" in xml


def test_text_writer_memo_is_bounded() -> None:
    """Hostile key sets (every subset of the children, in every order) fill the memo up to its bound only,
    and every message is still written as the element builder writes it."""
    import itertools

    from bridge.core.codec.json_to_xml import MAX_ORDERS

    spec = _fresh(SPEC)
    values = {"text": "t", "count": 2, "amount": Decimal("1.5"), "flag": True, "tags": ["x"]}
    for keys in itertools.islice(itertools.permutations(values), 200):
        assert _check_writer({key: values[key] for key in keys}, spec)
    assert len(spec.root._orders) == MAX_ORDERS


@needs_reference
def test_text_writer_on_every_official_example() -> None:
    """Every official JSON example with a payload type: the writer gives the element builder's bytes."""
    spec_of = load_bundle(REF).spec
    handled = 0
    for name in sorted(glob.glob(str(REF / "examples" / "*" / "*.json"))):
        document = loads_strict(Path(name).read_bytes())
        root = next(iter(document))
        if len(document) != 1 or root not in load_bundle(REF).types:
            continue
        handled += _check_writer(document[root], spec_of(root), spec_of, load_bundle(REF))
    assert handled >= 50


@needs_reference
@pytest.mark.parametrize("root", ["createCase", "emsi"])
def test_text_writer_on_generated_messages(root: str) -> None:
    """Schema-shaped payloads (RC-EDA, EMSI): same bytes, and a faithful read-back when the writer says so."""
    stem = {"createCase": "RC-EDA", "emsi": "EMSI"}[root]
    schema = json.loads((REF / "json-schema" / f"{stem}.schema.json").read_text(encoding="utf-8"))
    spec_of = load_bundle(REF).spec

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(from_schema(schema))
    def check(payload: dict) -> None:
        _check_writer(payload, spec_of(root), spec_of, load_bundle(REF))

    check()


# --- the public API: translate, then validate of the very bytes it returned ---------------------------------

@pytest.fixture
def gas_leak() -> bytes:
    if REF is None:
        pytest.skip("official Hub Santé corpus not found (set $HUB_REFERENCE)")
    return (REF / GAS_LEAK).read_bytes()


def _parses(monkeypatch) -> list[bytes]:
    seen: list[bytes] = []
    real = hub_codec.parse_xml

    def spy(data: bytes, *args: Any, **kwargs: Any) -> Any:
        seen.append(data)
        return real(data, *args, **kwargs)

    monkeypatch.setattr(hub_codec, "parse_xml", spy)
    return seen


def test_validate_of_just_translated_bytes_does_not_parse_them_again(gas_leak: bytes, monkeypatch) -> None:
    """translate checked the XSD on the tree libxml2 parsed from its own bytes; validate of that very bytes
    object reuses it (once). A copy, equal but not the same object, is parsed and checked in full."""
    parses = _parses(monkeypatch)
    xml = bridge.translate(gas_leak, "xml", schemas=REF)
    assert bridge.validate(xml, schemas=REF) == []
    assert parses == []
    assert bridge.validate(xml, schemas=REF) == []  # taken once: the second call is a full one
    copy = bytes(bytearray(xml))
    assert bridge.validate(copy, schemas=REF) == []
    assert parses == [xml, copy]


def test_the_public_names_are_looked_up_once() -> None:
    """``bridge.translate`` is imported lazily, then kept in the package: the module ``__getattr__`` (an import
    statement and a getattr, 2-3 us) runs for its first lookup only."""
    from bridge import api

    for name in bridge.__all__:
        assert getattr(bridge, name) is getattr(api, name)
        assert vars(bridge)[name] is getattr(api, name)


def test_text_saying_doctype_or_xmlns_does_not_send_just_translated_bytes_to_the_parser(gas_leak: bytes,
                                                                                         monkeypatch) -> None:
    """The writer escapes every ``<`` of text and declares one namespace, so validate of its bytes does not scan them
    for ``<!DOCTYPE``, ``<!ENTITY`` or ``xmlns`` (text saying ``xmlns`` 100 times once sent them to the parser);
    a copy of the same bytes, read in full, gets the same answer."""
    document = loads_strict(gas_leak)
    document["createCase"]["location"]["freetext"] = '<!DOCTYPE x [<!ENTITY e "boom">]> &e; ' + "xmlns " * 100
    data = simplejson.dumps(document, use_decimal=True).encode()
    parses = _parses(monkeypatch)
    xml = bridge.translate(data, "xml", schemas=REF)
    assert b"<!" not in xml and xml.count(b"xmlns") > 64
    assert bridge.validate(xml, schemas=REF) == []
    assert parses == []
    copy = bytes(bytearray(xml))
    assert bridge.validate(copy, schemas=REF) == []
    assert parses == [copy]


def test_the_tree_is_kept_only_for_the_conversion_check(gas_leak: bytes) -> None:
    """A message whose XML reads back as its JSON needs no tree in validate: translate frees it at once."""
    xml = bridge.translate(gas_leak, "xml", schemas=REF)
    known = hub_codec._BUILT.take(xml)
    assert known is not None and known.text.faithful
    assert known.element is None
    assert known.namespace == "urn:emergency:eda:1.9:createCase"


def test_the_kept_tree_has_no_indentation_nodes(gas_leak: bytes) -> None:
    """translate parses its own bytes without the indentation between elements (the bytes keep it)."""
    document = loads_strict(gas_leak)
    document["createCase"]["location"]["geometry"]["point"]["coord"]["lat"] = 47  # reads back as 47.0: not faithful
    xml = bridge.translate(simplejson.dumps(document, use_decimal=True).encode(), "xml", schemas=REF)
    assert b"\n  <" in xml
    known = hub_codec._BUILT.take(xml)
    assert known is not None and not known.text.faithful
    elements = list(known.element.iter())
    assert len(elements) > 100
    assert all(element.tail is None for element in elements)
    assert all(element.text is None for element in elements if len(element))


def test_fast_path_output_is_the_general_paths(gas_leak: bytes, monkeypatch) -> None:
    """translate gives the same bytes whether the text writer or the element builder writes them."""
    fast = bridge.translate(gas_leak, "xml", schemas=REF)
    monkeypatch.setattr(hub_codec, "build_text", lambda payload, spec, **_: None)
    assert bridge.translate(gas_leak, "xml", schemas=REF) == fast


@pytest.mark.parametrize("limits", [
    XmlLimits(max_bytes=1000), XmlLimits(max_elements=20), XmlLimits(max_depth=3), XmlLimits(max_namespaces=0),
    XmlLimits(max_attributes=-1),
])
def test_every_parser_limit_still_applies_to_just_translated_bytes(gas_leak: bytes, limits: XmlLimits) -> None:
    """validate with tighter limits refuses translate's own bytes exactly as it refuses a copy of them."""
    xml = bridge.translate(gas_leak, "xml", schemas=REF)
    found = bridge.validate(xml, schemas=REF, limits=limits)
    assert found
    assert found == bridge.validate(bytes(bytearray(xml)), schemas=REF, limits=limits)


def test_validate_against_another_bundle_checks_in_full(gas_leak: bytes, hub_reference_v2: Path, monkeypatch) -> None:
    """Bytes checked against one bundle are parsed and checked again when validate is given another."""
    other = hub_reference_v2
    parses = _parses(monkeypatch)
    xml = bridge.translate(gas_leak, "xml", schemas=REF)
    found = bridge.validate(xml, schemas=other)
    assert parses == [xml]
    assert found == bridge.validate(bytes(bytearray(xml)), schemas=other)


def test_normalised_message_still_gets_the_conversion_check(gas_leak: bytes, monkeypatch) -> None:
    """When the XML does not read back as exactly the JSON that passed its schema (here a latitude given as
    the integer 47, which reads back as a decimal), validate runs the JSON form's check on the kept tree; same answer as in full."""
    document = loads_strict(gas_leak)
    document["createCase"]["location"]["geometry"]["point"]["coord"]["lat"] = 47
    data = simplejson.dumps(document, use_decimal=True).encode()
    assert b'"lat": 47' in data
    calls: list[str] = []
    real = hub_codec._conversion_issues
    monkeypatch.setattr(hub_codec, "_conversion_issues", lambda *a: calls.append(a[2]) or real(*a))
    xml = bridge.translate(data, "xml", schemas=REF)
    assert b"<lat>47</lat>" in xml
    assert bridge.validate(xml, schemas=REF) == bridge.validate(bytes(bytearray(xml)), schemas=REF) == []
    assert calls == ["createCase", "createCase"]


def test_translated_bytes_are_kept_for_a_bounded_few(gas_leak: bytes) -> None:
    """translate without a validate after it does not pile up trees."""
    for _ in range(30):
        bridge.translate(gas_leak, "xml", schemas=REF)
    assert len(hub_codec._BUILT._entries) <= 8


def test_hostile_bytes_never_take_the_fast_path(gas_leak: bytes) -> None:
    """Only the bytes object translate returned is known; anything else goes through the hardened parser."""
    bridge.translate(gas_leak, "xml", schemas=REF)
    hostile = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><createCase>&e;</createCase>'
    assert [issue.code for issue in bridge.validate(hostile, schemas=REF)] == ["unsafe-xml"]


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text()
    | st.decimals(allow_nan=False, allow_infinity=False) | st.decimals(places=0) | st.sampled_from(
        [Decimal("-0"), Decimal("0E-8"), Decimal("1E+2"), Decimal(15), Decimal("-1.50"), Decimal("NaN")]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=12)


@given(_JSON_VALUES)
@settings(max_examples=400, deadline=None, database=None)
def test_json_form_without_the_text_is_what_the_text_gives(value: Any) -> None:
    """The conversion check reads the JSON form as a reader of its text would: same values, same types."""
    try:
        expected = simplejson.loads(dump_json(value), use_decimal=True)
    except ValueError:  # Infinity cannot be written: neither way hides that
        with pytest.raises(ValueError):
            hub_codec.as_json_text_reads_it(value)
        return
    got = hub_codec.as_json_text_reads_it(value)
    assert repr(_typed(got)) == repr(_typed(expected))
