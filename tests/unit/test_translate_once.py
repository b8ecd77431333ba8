"""The translate step (LRM frame -> createCase) does per profile or per table what does not change per frame.

Counted, not timed (performance lives in ``benchmarks/hot_path.py``): what is derived from a profile
or a mapping table is built once and reused, and each shortcut gives exactly what the general path
gives (same values, same refusals).
"""

from __future__ import annotations

import functools
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.core.adapters import legacy_fields
from bridge.core.adapters.legacy_text import LegacyTextAdapter, utf8_on_single_byte_link
from bridge.core.errors import InboundError, Issue
from bridge.refdata.profiles import build_context, load_profile
from bridge.runtime.demo import demo_frame


@pytest.fixture(scope="module")
def ctx():
    return build_context(profile="lrm-alpha-text", sender_id="fr.health.samu440",
                         recipient_id="fr.fire.nexsis.sdis44", now=datetime(2026, 11, 25, 10, 30, tzinfo=ZoneInfo("UTC")))


def test_a_mapping_row_hit_is_built_at_load_not_per_lookup(ctx):
    """A code found in a table gives the Mapped made when the table was loaded (same object each time)."""
    first = ctx.mappings.forward("lrm-alpha-nature", "CHUT")
    assert first.code and first.warning is None and first.how == "row" and first.source.startswith("lrm-alpha-nature")
    assert ctx.mappings.forward("lrm-alpha-nature", " CHUT ") is first
    assert ctx.mappings.forward("lrm-alpha-nature", "CHUT") is first


def test_an_unknown_code_still_goes_through_the_tables_policy(ctx):
    """Only hits are precomputed: a miss still gets its table's policy (fallback here, with its warning)."""
    missed = ctx.mappings.forward("lrm-alpha-nature", "NO-SUCH-CODE")
    assert (missed.code, missed.how, missed.original) == ("C11.06.00", "fallback", "NO-SUCH-CODE")
    assert "no forward mapping for 'NO-SUCH-CODE'" in missed.warning


def test_a_profiles_plan_is_built_once_for_many_frames(ctx, monkeypatch):
    """Field kinds, the key set and the victims' key pattern are worked out once per profile, not per frame."""
    built: list[str] = []
    real = legacy_fields.build_plan

    def counting(profile):
        built.append(profile.name)
        return real(profile)

    monkeypatch.setattr(legacy_fields, "build_plan", counting)
    profile = load_profile("lrm-alpha-text")  # a fresh profile object: its plan is not built yet
    frame_ctx = ctx.with_profile(profile)
    for n in range(5):
        decoded = LegacyTextAdapter().decode(demo_frame(n + 1, assistance=False), frame_ctx)
        assert decoded.case.sender_case_id == f"DEMO-{n + 1:06d}"
    assert built == ["lrm-alpha-text"]


def test_victims_read_with_the_plans_pattern(ctx):
    """The indexed victims' pattern of the plan reads VICTn_PART keys (and only those)."""
    frame = (b"NUM_DOSSIER=A1\r\nDATE_APPEL=20261125101500\r\nNATURE=CHUT\r\nCOMMUNE=Nantes\r\n"
             b"VICT1_NOM=Durand\r\nVICT1_AGE=82\r\nVICT2_PRENOM=Paul\r\nVICTX_NOM=Nope")
    decoded = LegacyTextAdapter().decode(frame, ctx)
    assert [(p.last_name, p.age, p.first_name) for p in decoded.case.patients] == [("Durand", 82, None),
                                                                                   (None, None, "Paul")]
    assert [d.path for d in decoded.dropped] == ["line 8"]


def _strptime_way(text: str, fmt: str) -> datetime:
    """The general path the compact form shortcuts: strptime, then the text must format back to itself."""
    parsed = datetime.strptime(text, fmt)
    if parsed.strftime(fmt) != text:
        raise ValueError(text)
    return parsed


def _outcome(call, *args):
    try:
        return call(*args)
    except (InboundError, ValueError) as exc:
        return type(exc).__name__


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(alphabet="0123456789", min_size=14, max_size=14),
                 st.builds(lambda d: d.strftime("%Y%m%d%H%M%S"), st.datetimes(min_value=datetime(1, 1, 1))),
                 st.text(alphabet="0123456789 +-:T\u0663", min_size=12, max_size=16)))
def test_compact_dates_read_by_position_as_strptime_reads_them(text):
    """Every text: the same datetime as strptime + the round-trip check, or a refusal where it refuses."""
    profile = load_profile("lrm-alpha-text")
    assert profile.datetime_format == legacy_fields.COMPACT_FORMAT
    expected = _outcome(_strptime_way, text, profile.datetime_format)
    got = _outcome(legacy_fields._parse_datetime, text, profile, "line 2")
    if isinstance(expected, datetime):
        assert got == expected.replace(tzinfo=ZoneInfo(profile.timezone))
    else:
        assert got == "InboundError"  # refused, as a bad-date (the general path's ValueError)


@pytest.mark.parametrize("text", ["20261125100000", "10000101000000", "99991231235959", "20240229120000"])
def test_compact_dates_taken_by_position_are_the_shortcut(text):
    """The texts above do take the positional way (not strptime), and give the strptime result."""
    assert legacy_fields._compact_datetime(text) == _strptime_way(text, "%Y%m%d%H%M%S")


@pytest.mark.parametrize("text", ["09991125100000", "2026112510000", "202611251000000", "2026112510000\u0663", ""])
def test_other_texts_go_the_general_way(text):
    assert legacy_fields._compact_datetime(text) is None


def _old_utf8_check(data: bytes, encoding: str) -> Issue | None:
    """The byte-by-byte scan the regex search replaced (kept here as the reference)."""
    import codecs

    if codecs.lookup(encoding).name.startswith("utf"):
        return None
    first = next((i for i, byte in enumerate(data) if byte >= 0x80), None)
    if first is None:
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    line = data.count(b"\n", 0, first) + 1
    return Issue(f"line {line}", f"byte {first}: the text reads as UTF-8 on a {encoding} link (accents will "
                                 f"arrive garbled): check the LRM's encoding or the profile's", "encoding-suspect")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64) | st.text(max_size=20).map(lambda t: t.encode("utf-8")),
       st.sampled_from(["cp1252", "iso-8859-1", "utf-8", "UTF8"]))
def test_the_utf8_suspicion_is_the_byte_scans(data, encoding):
    assert utf8_on_single_byte_link(data, encoding) == _old_utf8_check(data, encoding)


def test_no_pattern_is_compiled_per_frame(ctx, monkeypatch):
    """After a first frame, decoding frames compiles no regular expression (patterns are built once)."""
    adapter = LegacyTextAdapter()
    adapter.decode(demo_frame(1, assistance=False), ctx)
    compiled: list[str] = []
    real = re.compile
    monkeypatch.setattr(re, "compile", lambda pattern, flags=0: compiled.append(pattern) or real(pattern, flags))
    for n in range(2, 5):
        adapter.decode(demo_frame(n, assistance=False), ctx)
    assert compiled == []


def test_the_fire_side_filter_never_compares_a_model_to_an_empty_container(monkeypatch):
    """Skipping unset fields takes the field's type, not ``model == ()`` (a pydantic __eq__ call per section)."""
    from pydantic import BaseModel

    from bridge.core import confidentiality
    from bridge.core.canonical import Caller, Case, Coded, Location, Patient, Qualification

    case = Case(sender_case_id="A1", qualification=Qualification(whats_happen=Coded(code="C02.11.00")),
                location=Location(city="Nantes"), caller=Caller(phone="0611223344"),
                patients=(Patient(last_name="Durand"),), extras={"health.x": "1", "y": "2"})
    compared: list[type] = []
    real = BaseModel.__eq__
    monkeypatch.setattr(BaseModel, "__eq__", lambda self, other: compared.append(type(self)) or real(self, other))
    kept, withheld = confidentiality.apply(case, None, "fr.fire.nexsis.sdis44")
    assert compared == []
    monkeypatch.undo()
    assert kept.patients == () and kept.extras == {"y": "2"} and kept.caller == case.caller
    assert sorted(i.path for i in withheld) == ["extras.health.x", "patients[0].last_name"]


# ---- read tracking: the per-type views mark what the generic lookup marks ---------------------------------------

GOLDEN = __import__("pathlib").Path(__file__).resolve().parent.parent / "golden"


def _golden_cases():
    """Every golden LRM sheet that decodes with its profile (dates window opened), as canonical cases."""
    from bridge.core.adapters.profile import DatesSpec
    from bridge.core.adapters.registry import get_adapter
    from bridge.core.errors import BridgeError

    base = build_context(sender_id="fr.health.samu440", recipient_id="fr.fire.nexsis.sdis44",
                         now=datetime(2024, 5, 18, 18, 30, tzinfo=ZoneInfo("Europe/Paris")), new_id=lambda: "id-1")
    cases = []
    for folder in sorted(GOLDEN.glob("lrm-*")):
        profile = load_profile(folder.name).model_copy(update={"dates": DatesSpec(max_past_days=3650,
                                                                                  max_future_minutes=366 * 24 * 60)})
        ctx = base.with_profile(profile)
        for sheet in sorted(folder.glob("*.txt")) + sorted(folder.glob("*.xml")):
            try:
                cases.append((ctx, get_adapter(profile.adapter, ctx.adapters).decode(sheet.read_bytes(), ctx).case))
            except BridgeError:
                continue  # a sheet for another encoding variant of the profile
    return cases


def _tracked_encodes(monkeypatch, generic: bool):
    """(used paths, drops) of every Hub encoder over the golden cases; ``generic``: no per-type views."""
    from bridge.core.adapters import consumed
    from bridge.core.adapters.registry import get_adapter
    from bridge.core.errors import BridgeError

    if generic:  # every model read through the base class's own __getattribute__ lookup
        monkeypatch.setattr(consumed, "_VIEWS", {})
        monkeypatch.setattr(consumed, "_view_class", lambda model: consumed.Tracked)
    results = []
    for ctx, case in _golden_cases():
        for name in ("rc-eda-json", "emsi-json", "rc-ri-json"):
            tracked = consumed.Tracked(case)
            try:
                get_adapter(name, ctx.adapters).kind.encode(tracked, ctx)
            except BridgeError as exc:
                results.append((name, "refused", exc.message))
                continue
            results.append((name, sorted(tracked.used), consumed.unread(case, tracked.used, "x")))
    return results


def test_views_mark_what_the_generic_lookup_marks(monkeypatch):
    """The per-type views (fields as properties) record the same paths and the same drops as the generic
    ``__getattribute__`` lookup, for every golden sheet through every Hub encoder."""
    from bridge.core.adapters import consumed

    views = _tracked_encodes(monkeypatch, generic=False)
    generic = _tracked_encodes(monkeypatch, generic=True)
    assert type(consumed.Tracked(_golden_cases()[0][1])) is consumed.Tracked  # the generic way was taken
    assert len(views) >= 30 and any(r[1] != "refused" and r[2] for r in views)  # drops are compared too
    assert views == generic


def test_a_view_class_is_made_once_per_model_type():
    from bridge.core.adapters.consumed import Tracked
    from bridge.core.canonical import Case, Location

    first, second = Tracked(Case(location=Location(city="A"))), Tracked(Case(location=Location(city="B")))
    assert type(first) is type(second) and type(first).__name__ == "Tracked[Case]"
    assert type(first.location) is type(second.location) and type(first.location).__name__ == "Tracked[Location]"
    assert isinstance(first.location, Tracked) and type(Tracked({"a": 1})) is Tracked


def _prefixes(path: str) -> list[str]:
    return [path[:m.start()] for m in re.finditer(r"[./]", path)] + [path]


@functools.lru_cache(maxsize=1)
def _all_golden_cases() -> tuple:
    return tuple(case for _, case in _golden_cases())  # decoded once for the whole property test


def _golden_case(index: int):
    cases = _all_golden_cases()
    return cases[index % len(cases)]


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=10_000), st.data())
def test_the_quick_unread_walk_never_hides_a_drop(index, data):
    """``unread`` answers "nothing dropped" early only when the exact computation finds nothing either:
    any golden case, any set of read paths (leaves, their parents, strays)."""
    from bridge.core.adapters import consumed

    case = _golden_case(index)
    paths = sorted({p for leaf in consumed.held(case) for p in _prefixes(leaf)} | {"", "extras", "stray.path"})
    used = set(data.draw(st.lists(st.sampled_from(paths), max_size=len(paths))))
    quick = consumed.unread(case, used, "why")
    exact_path = consumed._any_unread
    try:
        consumed._any_unread = lambda *args, **kwargs: True  # always the exact way
        exact = consumed.unread(case, used, "why")
    finally:
        consumed._any_unread = exact_path
    assert quick == exact
    if exact:  # something is dropped: the quick walk must have said so
        assert consumed._any_unread(case, "", used, top=True) is True


def test_the_quick_unread_walk_answers_when_every_leaf_was_read():
    """The usual case (the encoder read every held leaf) is answered by the quick walk, for each golden case."""
    from bridge.core.adapters import consumed

    for _, case in _golden_cases():
        assert consumed._any_unread(case, "", set(consumed.held(case)), top=True) is False


def _old_prune(value):
    """The payload pruning as it was (the reference for the faster one)."""
    if isinstance(value, dict):
        kept = {}
        for key, item in value.items():
            if item is None or item == "":
                continue
            if isinstance(item, (dict, list, tuple)):
                item = _old_prune(item)
                if not item:
                    continue
            kept[key] = item
        return kept
    if isinstance(value, (list, tuple)):
        items = []
        for item in value:
            if item is None or item == "":
                continue
            if isinstance(item, (dict, list, tuple)):
                item = _old_prune(item)
                if not item:
                    continue
            items.append(item)
        return items
    return value


_LEAVES = st.one_of(st.none(), st.just(""), st.text(max_size=3), st.integers(-2, 2), st.booleans(),
                    st.decimals(allow_nan=False, allow_infinity=False, places=2))
_TREES = st.recursive(_LEAVES, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.lists(inner, max_size=3).map(tuple),
                                                      st.dictionaries(st.text(max_size=2), inner, max_size=4)),
                      max_leaves=25)


@settings(max_examples=500, deadline=None)
@given(_TREES)
def test_prune_gives_what_it_gave(tree):
    from bridge.core.adapters.hubjson import prune

    got, expected = prune(tree), _old_prune(tree)
    assert got == expected and repr(got) == repr(expected)  # same values, same types, same key order


def test_a_routine_value_derived_note_is_logged_once_and_kept_on_every_message(tmp_path):
    """The initialAlert note rides on nearly every sheet: logged at INFO the first time, while each message
    still carries it (its history); a note that names the case (a linked dossier) is logged every time."""
    from structlog.testing import capture_logs

    from bridge.testing.rig import Rig

    rig = Rig(tmp_path)
    try:
        translator = rig.service.translator
        with capture_logs() as logs:
            items = [translator.to_hub(demo_frame(n, assistance=False)) for n in range(1, 4)]
            linked = [translator.to_hub(demo_frame(n, assistance=False), linked_case=lambda d: f"fr.fire.x.{d}")
                      for n in range(4, 6)]
        derived = [e for e in logs if e["event"] == "value_derived"]
        assert [e["error_path"] for e in derived] == ["/createCase/initialAlert", "case.case_id", "case.case_id"]
        assert all(any(w.code == "value-derived" and w.path == "/createCase/initialAlert" for w in sheet[0].warnings)
                   for sheet in items + linked)
    finally:
        rig.close()


def test_the_consoles_usage_figures_count_each_lookup(tmp_path):
    """Lookups, fallbacks and codes per table, as the console shows them (the recording was made cheaper)."""
    from bridge.testing.rig import Rig

    rig = Rig(tmp_path)
    try:
        translator = rig.service.translator
        for n in range(1, 4):
            translator.to_hub(demo_frame(n, assistance=False))
        translator.to_hub(demo_frame(4, assistance=False).replace(b"NATURE=CHUT", b"NATURE=NO-SUCH"))
        usage = {(e["table"], e["direction"]): e for e in translator.usage.snapshot()}
        nature = usage[("lrm-alpha-nature", "forward")]
        assert (nature["lookups"], nature["fallbacks"], nature["codes"]) == (4, 1, {"CHUT": 3, "NO-SUCH": 1})
        assert usage[("lrm-alpha-lieu", "forward")]["codes"] == {"DOM": 4}
    finally:
        rig.close()


def test_the_build_rules_notes_are_made_once(ctx):
    """The initialAlert note is the same (immutable) Issue on every sheet, with the text it always had."""
    from bridge.core.adapters.rc_eda import encode_create_case

    cases = [LegacyTextAdapter().decode(demo_frame(n, assistance=False), ctx).case for n in (1, 2)]
    notes = [next(w for w in encode_create_case(case, ctx)[2] if w.path == "/createCase/initialAlert")
             for case in cases]
    assert notes[0] is notes[1] and notes[0].code == "value-derived"
    assert notes[0].message.startswith("the caller travels in an initialAlert the bridge writes: new id, reception "
                                       "= case creation, reporting STANDARD")
