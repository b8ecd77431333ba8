"""``bridge translate F --to-version V``: a Hub message from its model version to another installed one.

The source version is the one the message belongs to (``--schema-version``, else the namespace of an
XML message, else -- JSON carries no version -- the installed bundle it validates against, the
default first). The payload is converted by :mod:`bridge.core.versions` (fields the target lacks,
values it refuses: declared drops), validated against the target bundle, and written in the target
bundle's namespaces (XML) or as JSON. A full EDXL-DE message keeps its envelope and header.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bridge.core.codec.envelope import ENVELOPE_ROOT, HEADER_ROOT
from bridge.core.codec.json_to_xml import serialize
from bridge.core.errors import (
    BridgeError,
    HubErrorCode,
    InboundError,
    Issue,
    OutboundError,
)
from bridge.core.versions import convert, drop_invalid_leaves, field_paths
from bridge.core.xmlsafe import DEFAULT_LIMITS, XmlLimits
from bridge.refdata import hub_codec
from bridge.refdata.bundle import Bundle, list_bundles, load_bundle, resolve_bundle

MESSAGE = ("jsonContent", "embeddedJsonContent", "message")


@dataclass
class VersionResult:
    """The converted bytes, the source and target bundles, and what was dropped."""

    data: bytes
    source: Bundle
    target: Bundle
    dropped: list[Issue] = field(default_factory=list)


def to_version(data: bytes, target_version: str, *, source_version: str | None = None, to: str | None = None,
               limits: XmlLimits = DEFAULT_LIMITS) -> VersionResult:
    """Convert ``data`` to the installed bundle ``target_version``; ``to`` picks json/xml (default: the input's)."""
    fmt, document, root = hub_codec.parse(data, limits)
    target = resolve_bundle(version=target_version)
    if target is None:  # pragma: no cover - resolve_bundle raises for an unknown version
        raise BridgeError("no target bundle", [Issue("--to-version", target_version, "schema-not-found")])
    source = _source_bundle(fmt, document, root, source_version)
    issues = hub_codec._schema_issues(fmt, document, root, source)
    if issues:
        raise InboundError(f"invalid {root} message for version {source.info.model_version}: {len(issues)} error(s)",
                           issues, HubErrorCode.INVALID_MESSAGE)
    as_json = document if fmt == "json" else hub_codec.to_json(document, root, source.spec)
    holder, name, base = _payload_holder(as_json, root, source)
    if name not in target.types:
        raise OutboundError(f"version {target.info.model_version} has no {name!r} message type",
                            [Issue(base, f"no {name} in bundle {target.version}", "schema-not-found")],
                            HubErrorCode.SCHEMA_NOT_FOUND)
    label = f"{target.info.model_version} ({target.version})"
    payload, drops = convert(holder[name], field_paths(source.json_schema(name)), field_paths(target.json_schema(name)),
                             label, base)
    validator = target.json_validator(name)
    for _ in range(6):  # dropping a refused leaf may reveal a missing required field: a few rounds at most
        problems = validator.issues(payload, base)
        if not problems:
            break
        payload, more, remaining = drop_invalid_leaves(payload, problems, label, base)
        drops += more
        if remaining:
            raise OutboundError(f"the message cannot be expressed in version {label}", remaining,
                                HubErrorCode.INVALID_MESSAGE)
    else:
        raise OutboundError(f"the message cannot be expressed in version {label}", validator.issues(payload, base),
                            HubErrorCode.INVALID_MESSAGE)
    holder[name] = payload
    out = to or fmt
    if out == "xml":
        return VersionResult(serialize(hub_codec.to_element(as_json, root, target.spec)), source, target, drops)
    return VersionResult(hub_codec.dump_json(as_json), source, target, drops)


def _source_bundle(fmt: str, document: Any, root: str, wanted: str | None) -> Bundle:
    if wanted:
        bundle = resolve_bundle(version=wanted)
    elif fmt == "xml":
        bundle = hub_codec.bundle_for(fmt, document)
    else:
        bundle = _bundle_validating(document, root)
    if bundle is None:
        raise BridgeError("no schema bundle installed (bridge schemas install DIR)",
                          [Issue("schemas", "--to-version needs the source and target bundles installed",
                                 "schema-not-found")], HubErrorCode.SCHEMA_NOT_FOUND)
    return bundle


def _bundle_validating(document: Any, root: str) -> Bundle | None:
    """JSON has no version marker: the installed bundle it is valid against (the default first)."""
    infos = sorted(list_bundles(), key=lambda info: not info.is_default)
    for info in infos:
        bundle = load_bundle(info.path)
        if (root == ENVELOPE_ROOT or root in bundle.types) and not hub_codec._schema_issues("json", document, root,
                                                                                             bundle):
            return bundle
    if infos:
        raise InboundError(f"the {root} message is valid against no installed version: pass --schema-version",
                           [Issue("/", f"installed: {', '.join(info.version for info in infos)}", "schema-not-found")],
                           HubErrorCode.SCHEMA_NOT_FOUND)
    return None


def _payload_holder(document: dict, root: str, bundle: Bundle) -> tuple[dict, str, str]:
    """The dict holding the payload key, the payload name and its JSON pointer."""
    if root != ENVELOPE_ROOT:
        return document, root, f"/{root}"
    message = document["content"][0]
    for key in MESSAGE:
        message = message[key]
    header = bundle.spec(HEADER_ROOT).root
    names = [key for key in message if header.child(key) is None]
    return message, names[0], "/content/0/" + "/".join(MESSAGE) + f"/{names[0]}"


__all__ = ["VersionResult", "to_version"]
