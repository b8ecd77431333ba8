"""The hardened XML parser refuses hostile or oversize documents quickly, with a named reason."""

from __future__ import annotations

from pathlib import Path

import pytest

import bridge
from bridge.core.errors import InboundError, MessageTooLarge, UnsafeXml
from bridge.core.xmlsafe import XmlLimits, parse_xml

BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    + "]><lolz>&lol9;</lolz>"
)
FIFTY_MB = 50 * 1024 * 1024


def test_accepts_a_plain_namespaced_document() -> None:
    """An ordinary payload parses and keeps its namespace and text."""
    root = parse_xml(b'<reference xmlns="urn:emergency:eda:1.9:reference"><distributionID>x</distributionID></reference>')
    assert root.tag == "{urn:emergency:eda:1.9:reference}reference" and root[0].text == "x"


def test_refuses_the_official_external_entity_sample(hub_reference: Path) -> None:
    """failing/EDXL-DE/external-entity.xml (XXE on /etc/passwd) is refused as unsafe, never read."""
    data = (hub_reference / "failing" / "EDXL-DE" / "external-entity.xml").read_bytes()
    with pytest.raises(UnsafeXml) as caught:
        parse_xml(data)
    assert caught.value.issues[0].code == "unsafe-xml"
    assert "root:" not in str(caught.value)


@pytest.mark.timeout(10)
def test_refuses_billion_laughs() -> None:
    """The exponential-entity bomb is refused before any expansion."""
    with pytest.raises(UnsafeXml):
        parse_xml(BILLION_LAUGHS.encode())


@pytest.mark.timeout(10)
def test_refuses_billion_laughs_hidden_in_utf16() -> None:
    """A DTD the byte scan cannot see (UTF-16) is still refused, without expanding entities."""
    with pytest.raises(UnsafeXml):
        parse_xml(BILLION_LAUGHS.replace('"1.0"?>', '"1.0" encoding="UTF-16"?>', 1).encode("utf-16"))


@pytest.mark.timeout(20)
def test_refuses_a_50_mb_document_by_size_before_parsing() -> None:
    """50 MB is over the 1 MiB default: refused by length, naming the limit."""
    data = b"<a>" + b"x" * FIFTY_MB + b"</a>"
    with pytest.raises(MessageTooLarge) as caught:
        parse_xml(data)
    assert "1048576" in str(caught.value)


@pytest.mark.timeout(30)
def test_refuses_a_50_mb_text_node_even_with_a_raised_limit() -> None:
    """With the size limit raised, libxml2's own text-node ceiling still refuses it cleanly."""
    data = b"<a>" + b"x" * FIFTY_MB + b"</a>"
    with pytest.raises(MessageTooLarge) as caught:
        parse_xml(data, XmlLimits(max_bytes=2 * FIFTY_MB))
    assert caught.value.issues[0].code == "too-large"


@pytest.mark.timeout(10)
def test_refuses_10000_deep_nesting() -> None:
    """10,000 nested elements are refused as too deep, not a crash or a recursion error."""
    with pytest.raises(InboundError) as caught:
        parse_xml(b"<a>" * 10_000 + b"</a>" * 10_000)
    assert caught.value.issues[0].code == "too-deep"


def test_refuses_nesting_over_the_configured_depth() -> None:
    """Our own depth limit applies below libxml2's and names the element's path."""
    with pytest.raises(InboundError) as caught:
        parse_xml(b"<a>" * 10 + b"</a>" * 10, XmlLimits(max_depth=5))
    assert caught.value.issues[0].code == "too-deep" and caught.value.issues[0].path.startswith("/a/a")


def test_refuses_too_many_elements() -> None:
    """The element count limit is enforced."""
    with pytest.raises(MessageTooLarge):
        parse_xml(b"<a>" + b"<b/>" * 101 + b"</a>", XmlLimits(max_elements=100))


def test_reports_syntax_errors_with_a_line() -> None:
    """Malformed XML names the line."""
    with pytest.raises(InboundError) as caught:
        parse_xml(b"<a>\n<b></a>")
    assert caught.value.issues[0].path == "line 2" and caught.value.issues[0].code == "xml-syntax"


@pytest.mark.timeout(20)
def test_public_api_reports_hostile_input_instead_of_raising() -> None:
    """bridge.validate returns the refusal as issues for a bomb and for 50 MB, and translate raises InboundError."""
    assert [i.code for i in bridge.validate(BILLION_LAUGHS.encode())] == ["unsafe-xml"]
    assert [i.code for i in bridge.validate(b"<a>" + b"x" * FIFTY_MB + b"</a>")] == ["too-large"]
    with pytest.raises(InboundError):
        bridge.translate(b"<a>" * 10_000 + b"</a>" * 10_000, "json")
