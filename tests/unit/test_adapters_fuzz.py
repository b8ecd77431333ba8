"""Garbage never crashes a legacy adapter: it decodes, or it is refused with a BridgeError naming the spot."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.core.adapters.base import AdapterContext
from bridge.core.adapters.legacy_text import LegacyTextAdapter
from bridge.core.adapters.legacy_xml import LegacyXmlAdapter
from bridge.core.errors import BridgeError
from bridge.core.mapping import Mapped
from bridge.refdata.profiles import load_profile

PROFILES = {name: load_profile(name) for name in ("lrm-alpha-text", "lrm-beta-text", "lrm-alpha-xml", "lrm-beta-xml")}
KEYS = ["NUM_DOSSIER", "DATE_APPEL", "NATURE", "COMMUNE", "LAT", "VICT1_AGE", "VICT2_NOM", "TYPE_VICTIME", "OBS",
        "DEMANDE_SP", "RISQUE", "X"]


class EchoMappings:
    def forward(self, table: str, code: str) -> Mapped:
        return Mapped(code, None, f"{table}.csv:1")

    reverse = forward


def _ctx(profile: str) -> AdapterContext:
    return AdapterContext(now=datetime(2024, 1, 1, tzinfo=UTC), new_id=lambda: "id",
                          mappings=EchoMappings(), profile=PROFILES[profile])


def _decode(adapter, data: bytes, profile: str) -> None:
    try:
        decoded = adapter.decode(data, _ctx(profile))
    except BridgeError as exc:
        assert exc.issues, "a refusal must name at least one spot"
    else:
        assert decoded.case is not None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(profile=st.sampled_from(["lrm-alpha-text", "lrm-beta-text"]), data=st.binary(max_size=200))
def test_random_bytes_never_crash_legacy_text(profile, data):
    """Arbitrary bytes through legacy-text: decoded or refused, never an unexpected exception."""
    _decode(LegacyTextAdapter(), data, profile)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pairs=st.lists(st.tuples(st.sampled_from(KEYS), st.text(max_size=30)), max_size=12))
def test_random_key_values_never_crash_alpha(pairs):
    """Plausible keys with arbitrary values: decoded or refused with the field named."""
    text = "\r\n".join(f"{k}={v}" for k, v in pairs)
    _decode(LegacyTextAdapter(), text.encode("utf-8", "replace"), "lrm-alpha-text")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(columns=st.lists(st.text(alphabet=st.characters(blacklist_characters=";"), max_size=15), max_size=27))
def test_random_columns_never_crash_beta(columns):
    """Arbitrary column values on the beta line: decoded or refused with the column named."""
    _decode(LegacyTextAdapter(), ";".join(columns).encode("iso-8859-1", "replace"), "lrm-beta-text")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(profile=st.sampled_from(["lrm-alpha-xml", "lrm-beta-xml"]), data=st.binary(max_size=200))
def test_random_bytes_never_crash_legacy_xml(profile, data):
    """Arbitrary bytes through legacy-xml: refused by the parser or the XSD, never a crash."""
    _decode(LegacyXmlAdapter(), b"<?xml version='1.0'?>" + data, profile)


JSON_LEAVES = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=12))
JSON_VALUES = st.recursive(JSON_LEAVES, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                                st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                           max_leaves=6)
CREATE_CASE = {"caseId": "fr.health.samu440.X1", "creation": "2024-01-01T00:00:00+01:00",
               "qualification": {"whatsHappen": {"code": "C04.00.00", "label": "x"}, "riskThreat": [{"code": "R13"}]},
               "location": {"locID": "l", "country": "FR", "detailedAddress": {"complete": "x"},
                            "geometry": {"point": {"coord": {"lat": 1, "lon": 2}}}},
               "initialAlert": {"caller": {"callerContact": {"type": "TEL", "detail": "1"}}, "notes": [{"freetext": "a"}]},
               "additionalInformation": {"customMap": [{"key": "hub-bridge.patients", "value": "[]"}]}}
EMSI = {"CONTEXT": {"ID": "1", "FREETEXT": "x"}, "EVENT": {"ID": "E", "ETYPE": {"CATEGORY": ["FIR"], "ACTOR": ["PPL"]},
        "EGEO": [{"POSITION": {"ADDRESS": ["1 rue, Ville"], "COORD": [{"LAT": 1, "LONG": 2}]}}]},
        "MISSION": [{"NAME": "#DEMANDE_CONCOURS#AUTRE#", "RESOURCE_ID": ["a"]}]}


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, prefix + (index,))


def _replace(node, path, value):
    if not path:
        return value
    copy = dict(node) if isinstance(node, dict) else list(node)
    copy[path[0]] = _replace(copy[path[0]], path[1:], value)
    return copy


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(which=st.sampled_from(["createCase", "emsi"]), pick=st.integers(min_value=0), value=JSON_VALUES)
def test_misshapen_hub_payloads_are_refused_not_crashed(which, pick, value):
    """Any subtree of a Hub payload replaced by any JSON value: decoded or refused with a pointer."""
    from bridge.core.adapters.emsi import decode_emsi
    from bridge.core.adapters.rc_eda import decode_create_case

    base, decode = (CREATE_CASE, decode_create_case) if which == "createCase" else (EMSI, decode_emsi)
    paths = list(_paths(base))
    mutated = _replace(base, paths[pick % len(paths)], value)
    try:
        decoded = decode(mutated, _ctx("lrm-alpha-text"))
    except BridgeError as exc:
        assert exc.issues
    else:
        assert decoded.case is not None
