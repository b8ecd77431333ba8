"""The official corpus as the health-model tests read it: examples, contexts and the hot path's validator.

One place for what test_rs_eda, test_rs_ri, test_case_merge, test_status_merge, test_service_health and
the live health-LRM test each wrote again. Every helper needs the corpus; tests mark themselves with
``NO_CORPUS`` so they skip, saying why, when it is absent.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import simplejson

from bridge.refdata.bundle import load_bundle
from bridge.refdata.profiles import build_context
from tests.conftest import reference_dir

REF = reference_dir()
NO_CORPUS = pytest.mark.skipif(REF is None, reason="official Hub Santé corpus not found (set $HUB_REFERENCE)")


def examples(*kinds: str) -> list[Path]:
    """The JSON examples of these message kinds (``RS-EDA``...), sorted; none without the corpus."""
    if REF is None:
        return []
    return sorted(p for kind in kinds for p in (REF / "examples" / kind).glob("*.json"))


def example(kind: str, name: str) -> bytes:
    """One official example's bytes."""
    assert REF is not None
    return (REF / "examples" / kind / name).read_bytes()


def example_id(path: Path) -> str:
    return path.stem


def load_json(data: bytes) -> dict[str, Any]:
    """JSON with exact decimals, as the bridge reads it."""
    loaded: dict[str, Any] = simplejson.loads(data, parse_float=Decimal)
    return loaded


def corpus_ctx(sender: str, recipient: str, profile: str | None = None) -> Any:
    """An adapter context on the corpus's code lists and schema bundle."""
    assert REF is not None
    return build_context(nomenclature_dir=REF / "nomenclatures", schemas=REF, sender_id=sender,
                         recipient_id=recipient, profile=profile)


def corpus_validator() -> Callable[[str, Any], Any]:
    """The pipeline's ``validator`` hook on the corpus's bundle (the hot path's compiled JSON Schema check)."""
    assert REF is not None
    bundle = load_bundle(REF)
    return lambda name, payload: bundle.json_validator(name).issues(payload, f"/{name}")
