"""The translate step (LRM frame -> createCase) does per profile or per table what does not change per frame.

Counted, not timed (performance lives in ``benchmarks/hot_path.py``): what is derived from a profile
or a mapping table is built once and reused, and each shortcut gives exactly what the general path
gives (same values, same refusals).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bridge.refdata.profiles import build_context


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
