"""``legacy-xml``: the XML case sheet ("fiche 15-18") LRM editors exported.

Each profile names its root element and the project XSD (``xsd/legacy/``) that
validates it; field keys are element paths relative to the root
(``adresse/commune``). Untrusted bytes go through the hardened
:func:`~bridge.core.xmlsafe.parse_xml`, then the XSD, so an operator gets every
schema error with its line before any mapping is tried. Encoding builds the
elements in profile order, which each profile keeps equal to its XSD sequence.
"""

from __future__ import annotations

from functools import lru_cache

from lxml import etree

from bridge.core.adapters.base import Adapter, AdapterContext, Decoded, Encoded
from bridge.core.adapters.legacy_fields import (
    Entry,
    Record,
    case_to_entries,
    operations_to_groups,
    patients_to_parts,
    record_to_case,
)
from bridge.core.adapters.legacy_text import require_profile
from bridge.core.adapters.profile import Profile
from bridge.core.canonical import Case
from bridge.core.errors import BridgeError, HubErrorCode, InboundError, Issue, OutboundError
from bridge.core.xmlsafe import parse_xml


@lru_cache(maxsize=32)
def compile_xsd(xsd_text: str) -> etree.XMLSchema:
    """Compile a project XSD once (its text is given by the edge that read the file)."""
    return etree.XMLSchema(etree.fromstring(xsd_text.encode("utf-8")))


def _schema(profile: Profile) -> etree.XMLSchema | None:
    if not profile.xml_spec.xsd_text:
        return None
    try:
        return compile_xsd(profile.xml_spec.xsd_text)
    except etree.XMLSchemaParseError as exc:
        raise BridgeError(f"XSD {profile.xml_spec.xsd} of profile {profile.name} does not compile",
                          [Issue(profile.xml_spec.xsd, str(exc), "bad-xsd")]) from None


def validate_against_xsd(root: etree._Element, profile: Profile) -> list[Issue]:
    """Every XSD error of a document, each naming its line, or [] when there is no XSD text."""
    schema = _schema(profile)
    if schema is None or schema.validate(root):
        return []
    return [Issue(f"line {e.line}", e.message, "schema") for e in schema.error_log]


class LegacyXmlAdapter(Adapter):
    """XML case sheets, driven by a profile."""

    name = "legacy-xml"
    version = "1.0"
    direction = "both"
    needs_profile = True
    media_type = "application/xml"

    def decode(self, data: bytes, ctx: AdapterContext) -> Decoded:
        profile = require_profile(ctx, self.name)
        root = parse_xml(bytes(data))
        if etree.QName(root).localname != profile.xml_spec.root:
            raise InboundError(f"{profile.name}: root element is <{etree.QName(root).localname}>, "
                               f"expected <{profile.xml_spec.root}>",
                               [Issue(f"line {root.sourceline}", f"expected <{profile.xml_spec.root}>, found <{etree.QName(root).localname}>", "wrong-kind")],
                               HubErrorCode.UNRECOGNIZED_MESSAGE_FORMAT)
        issues = validate_against_xsd(root, profile)
        if issues:
            raise InboundError(f"{profile.name}: case sheet does not match {profile.xml_spec.xsd}", issues,
                               HubErrorCode.INVALID_MESSAGE)
        return record_to_case(_record(root, profile), profile, ctx)

    def encode(self, case: Case, ctx: AdapterContext) -> Encoded:
        profile = require_profile(ctx, self.name)
        entries, drops, warnings = case_to_entries(case, profile, ctx)
        root = etree.Element(profile.xml_spec.root, profile.xml_spec.root_attributes)
        for entry in entries:
            _append_path(root, entry.key).text = entry.value
        patients = patients_to_parts(case, profile, ctx)
        if profile.patients is not None and patients:
            for parts in patients:
                item = _append_path(root, profile.patients.key)
                for legacy, value in parts.items():
                    etree.SubElement(item, legacy).text = value
        resources, missions, op_warnings = operations_to_groups(case, profile, ctx)
        warnings += op_warnings
        if profile.operations is not None:
            for path, groups in ((profile.operations.resource_key, resources),
                                 (profile.operations.mission_key, missions)):
                for group in groups:
                    item = _append_path(root, path)
                    for legacy, value in group:
                        etree.SubElement(item, legacy).text = value
        issues = validate_against_xsd(root, profile)
        if issues:
            raise OutboundError(f"{profile.name}: the sheet built does not match {profile.xml_spec.xsd}", issues)
        data = etree.tostring(root, xml_declaration=True, encoding=profile.encoding.upper(), pretty_print=True)
        return Encoded(data, drops, warnings)


def _record(root: etree._Element, profile: Profile) -> Record:
    record = Record()
    patient_path = profile.patients.key if profile.patients is not None else None
    group_paths = (profile.operations.resource_key, profile.operations.mission_key) if profile.operations else ()
    tree = root.getroottree()
    for element in root.iter(etree.Element):
        if element is root or len(element):
            continue
        path = "/".join(etree.QName(e).localname for e in reversed(list(element.iterancestors()))
                        if e is not root)
        key = f"{path}/{etree.QName(element).localname}".lstrip("/")
        if patient_path and key.startswith(patient_path + "/"):
            continue
        if any(key.startswith(group + "/") for group in group_paths):
            continue
        record.entries.append(Entry(key, element.text or "", f"{tree.getpath(element)} (line {element.sourceline})"))
    if patient_path:
        for item in root.iterfind(patient_path):
            record.patients.append({etree.QName(child).localname:
                                    Entry(etree.QName(child).localname, child.text or "",
                                          f"{tree.getpath(child)} (line {child.sourceline})")
                                    for child in item if isinstance(child.tag, str)})
    for path, groups in zip(group_paths, (record.resources, record.missions), strict=False):
        groups += [[(etree.QName(child).localname, child.text or "",
                     f"{tree.getpath(child)} (line {child.sourceline})") for child in item if isinstance(child.tag, str)]
                   for item in root.iterfind(path)]
    return record


def _append_path(root: etree._Element, path: str) -> etree._Element:
    """Create ``path`` under root, reusing the last parent of the same name so siblings group."""
    parent = root
    *parents, leaf = path.split("/")
    for name in parents:
        last = parent[-1] if len(parent) else None
        parent = last if last is not None and last.tag == name else etree.SubElement(parent, name)
    return etree.SubElement(parent, leaf)
