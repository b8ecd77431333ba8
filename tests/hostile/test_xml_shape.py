"""Issue 12 item 6: validation that cost minutes.

When libxml2 rejects a document, the full error list comes from xmlschema, whose cost
grew with errors x element size and with the number of one parent's unexpected children:
2,000 attributes on one element took 20-54 s, 40 levels x 100 namespace declarations
45-81 s. Now the hardened parser refuses crowded shapes, and the full pass is capped
(errors listed) and run only on documents of bounded size and element count.
"""

from __future__ import annotations

import pytest

from bridge.core.errors import InboundError, MessageTooLarge
from bridge.core.validation import MAX_FULL_ERRORS, MAX_FULL_ERRORS_ELEMENTS
from bridge.core.xmlsafe import DEFAULT_MAX_ATTRIBUTES, DEFAULT_MAX_NAMESPACES, XmlLimits, parse_xml

EXAMPLE = "examples/RC-EDA/RC-EDA-DouleurThoracique-PierreLegrand.xml"


def _attrs(count: int) -> str:
    return " ".join(f'a{i}="v"' for i in range(count))


def _nested_namespaces(levels: int, per_level: int) -> str:
    inner = "<leaf/>"
    for level in range(levels):
        decls = " ".join(f'xmlns:p{level}_{i}="urn:x:{level}:{i}"' for i in range(per_level))
        inner = f"<p{level}_0:e {decls}>{inner}</p{level}_0:e>"
    return inner


def test_attributes_per_element_are_limited_naming_the_element():
    """64 attributes pass; 65 on one element are refused with too-many-attributes at its path."""
    parse_xml(f"<root><a {_attrs(DEFAULT_MAX_ATTRIBUTES)}/></root>".encode())
    with pytest.raises(MessageTooLarge) as caught:
        parse_xml(f"<root><a/><a {_attrs(DEFAULT_MAX_ATTRIBUTES + 1)}/></root>".encode())
    issue = caught.value.issues[0]
    assert issue.code == "too-many-attributes" and issue.path == "/root/a[2]"


def test_namespace_declarations_per_document_are_limited():
    """40 levels x 100 declarations (the reported attack) and 65 on one element are refused."""
    with pytest.raises(MessageTooLarge) as caught:
        parse_xml(f"<root>{_nested_namespaces(40, 100)}</root>".encode())
    assert caught.value.issues[0].code == "too-many-namespaces"
    with pytest.raises(MessageTooLarge):
        parse_xml(f"<root>{_nested_namespaces(1, DEFAULT_MAX_NAMESPACES + 1)}</root>".encode())
    parse_xml(f"<root>{_nested_namespaces(1, DEFAULT_MAX_NAMESPACES)}</root>".encode())


def test_text_that_mentions_xmlns_is_not_a_declaration():
    """The byte pre-scan only decides when to count: text saying xmlns 500 times is accepted."""
    root = parse_xml(("<root xmlns='urn:a'>" + "<t>xmlns xmlns</t>" * 250 + "</root>").encode())
    assert len(root) == 250


def test_utf16_documents_are_counted_too():
    """The byte pre-scan cannot see UTF-16; the declarations are then counted on the tree."""
    text = f'<?xml version="1.0" encoding="UTF-16"?><root>{_nested_namespaces(2, 40)}</root>'
    with pytest.raises(MessageTooLarge):
        parse_xml(text.encode("utf-16"))


def test_limits_are_configurable():
    """A deployment can tighten (or loosen) them like the other limits."""
    with pytest.raises(MessageTooLarge):
        parse_xml(b"<root a='1' b='2'/>", XmlLimits(max_attributes=1))


def _example(hub_reference) -> bytes:
    return (hub_reference / EXAMPLE).read_bytes()


@pytest.mark.timeout(15)
def test_validate_2000_attributes_is_one_quick_refusal(hub_reference):
    """The reported 2,000-attribute shape: one refusal naming the element, not 2,000 slow schema errors."""
    from bridge.api import validate

    data = _example(hub_reference).replace(b"<caseId>", f"<caseId {_attrs(2000)}>".encode(), 1)
    issues = validate(data, schemas=hub_reference)
    assert [(i.code, i.path) for i in issues] == [("too-many-attributes", "/*/*[1]")]  # createCase/caseId


@pytest.mark.timeout(15)
def test_validate_nested_namespace_declarations_is_one_quick_refusal(hub_reference):
    """The reported 40 x 100 namespace shape, inside a real message."""
    from bridge.api import translate, validate

    data = _example(hub_reference).replace(b"<caseId>", _nested_namespaces(40, 100).encode() + b"<caseId>", 1)
    assert [i.code for i in validate(data, schemas=hub_reference)] == ["too-many-namespaces"]
    with pytest.raises(InboundError):
        translate(data, "json", schemas=hub_reference)


@pytest.mark.timeout(30)
def test_full_error_list_is_capped(hub_reference):
    """1,800 unexpected children: the first MAX_FULL_ERRORS errors and one Issue saying the list was cut."""
    from bridge.api import validate

    data = _example(hub_reference).replace(b"<caseId>", b"<x/>" * 1800 + b"<caseId>", 1)
    issues = validate(data, schemas=hub_reference)
    assert len(issues) == MAX_FULL_ERRORS + 1
    assert issues[-1].code == "too-many-errors" and all(i.code == "schema" for i in issues[:-1])


@pytest.mark.timeout(30)
def test_documents_over_the_element_threshold_get_libxml2_list(hub_reference):
    """Over MAX_FULL_ERRORS_ELEMENTS elements the full pass is skipped: libxml2's own list, still named."""
    from bridge.api import validate

    data = _example(hub_reference).replace(b"<caseId>", b"<x/>" * (MAX_FULL_ERRORS_ELEMENTS * 6) + b"<caseId>", 1)
    issues = validate(data, schemas=hub_reference)
    assert 1 <= len(issues) <= MAX_FULL_ERRORS + 1
    assert issues[0].code == "schema" and "x" in issues[0].message
