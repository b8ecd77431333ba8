"""Validators collect every error, each at the field's own path."""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

from bridge.core.validation import JsonValidator, XmlValidator, pointer, readable_path

SCHEMA = {
    "$id": "classpath:/json-schema/schema#",
    "type": "object",
    "required": ["id", "kind"],
    "properties": {
        "id": {"type": "string", "pattern": "^[a-z]+$"},
        "kind": {"type": "string", "enum": ["A", "B"]},
        "items": {"type": "array", "maxItems": 2, "items": {"$ref": "#/definitions/item"}},
        "lat": {"type": "number"},
    },
    "additionalProperties": False,
    "definitions": {"item": {"type": "object", "properties": {"n": {"type": "integer"}}, "additionalProperties": False}},
}

XSD = b"""<schema xmlns="http://www.w3.org/2001/XMLSchema" xmlns:x="urn:t" targetNamespace="urn:t" elementFormDefault="qualified">
  <element name="t"><complexType><sequence>
    <element name="n" type="integer"/><element name="b" type="boolean" maxOccurs="2"/>
  </sequence></complexType></element></schema>"""


def test_valid_instance_has_no_issues_and_decimals_are_numbers() -> None:
    """A valid instance (Decimal numbers included) yields an empty list."""
    assert JsonValidator(SCHEMA).issues({"id": "abc", "kind": "A", "lat": Decimal("1.5")}) == []


def test_every_error_is_collected_at_its_own_path() -> None:
    """Missing, extra, wrong type, enum and pattern errors are all reported, each at the field."""
    issues = JsonValidator(SCHEMA).issues({"id": "ABC", "extra": 1, "items": [{"n": "x"}, {}, {}]}, "/root")
    found = {(issue.path, issue.code) for issue in issues}
    assert found == {
        ("/root/id", "pattern"),
        ("/root/kind", "required"),
        ("/root/extra", "additional-property"),
        ("/root/items", "maxItems"),
        ("/root/items/0/n", "type"),
    }


def test_type_errors_say_what_was_found() -> None:
    """Type errors read 'string found, number expected'."""
    issues = JsonValidator(SCHEMA).issues({"id": "a", "kind": "A", "lat": "north"})
    assert [str(issue) for issue in issues] == ["/lat: string found, number expected"]


def test_pointer_escapes_slash_and_tilde() -> None:
    """JSON pointer escaping per RFC 6901."""
    assert pointer("/a", "b/c", "d~e", 0) == "/a/b~1c/d~0e/0"


def test_xml_issues_have_readable_paths_and_lines() -> None:
    """libxml2's /*/*[2] becomes /t/b[2] and the message names the line."""
    validator = XmlValidator(etree.XMLSchema(etree.fromstring(XSD)))
    element = etree.fromstring(b'<t xmlns="urn:t">\n<n>1</n>\n<b>true</b>\n<b>vrai</b>\n</t>')
    issues = validator.issues(element)
    assert [issue.path for issue in issues] == ["/t/b[2]"]
    assert "(line 4)" in issues[0].message and "{urn:t}" not in issues[0].message


def test_readable_path_indexes_only_repeated_names() -> None:
    """Positions appear only where siblings share a name."""
    root = etree.fromstring(b"<a><b/><c/><c><d/></c></a>")
    assert readable_path(root[2][0]) == "/a/c[2]/d"


def test_libxml2_giving_up_is_a_refusal_not_a_crash(hub_reference) -> None:
    """A 40-character near miss of the caseId pattern makes libxml2 stop with an internal error (lxml raises):
    the document is refused with an issue, and no full pass runs Python's re on the same value."""
    import bridge

    data = (hub_reference / "examples" / "RC-EDA" / "RC-EDA-FuiteDeGaz-AliceGregoireNormand.01.json").read_bytes()
    xml = bridge.translate(data, "xml", schemas=hub_reference)
    hostile = xml.replace(b"fr.health.samu440.DRFR154402413800236", b"a" * 40 + b"!")
    assert hostile != xml
    issues = bridge.validate(hostile, schemas=hub_reference)
    assert [issue.code for issue in issues] == ["schema"] and "gave up" in issues[0].message
