"""CPU of the parts of the wrap step and of the RC-REF read/check, per message, in one process (issue 18).

Finer than ``benchmarks/hot_path.py``: each part of ``service._wrap`` (demo sheet's createCase,
2,000 messages) and of an RC-REF's read and check (600 RC-REFs for stored messages) timed alone,
best of 5 passes, ``time.process_time``. Runs on any checkout of the bridge since issue 18 (the
service's payload check is ``edxl.checked_payload`` where it exists, else ``edxl._payload_dict``,
validate and dump), so main and a branch can be compared in the same minutes:

    .venv/bin/python benchmarks/wrap_parts.py
"""

from __future__ import annotations

import inspect
import io
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bridge.runtime.logging import configure_logging


def _best(xs: list[Any], call: Callable[[Any], object], passes: int = 5) -> float:
    best = float("inf")
    for _ in range(passes):
        started = time.process_time()
        for x in xs:
            call(x)
        best = min(best, time.process_time() - started)
    return 1e6 * best / len(xs)


def _print(rows: Iterable[tuple[str, float]]) -> None:
    for name, micros in rows:
        print(f"  {name:40s} {micros:6.1f} us")


def wrap_parts(messages: int = 2000) -> list[tuple[str, float]]:
    from bridge.app.records import translation_notes
    from bridge.core import edxl
    from bridge.runtime.demo import demo_frame
    from bridge.testing.rig import SAMU, SDIS, Rig

    rig = Rig(Path(tempfile.mkdtemp(prefix="bridge-wrap-parts-")), max_pending=10 * messages)
    try:
        service, translator = rig.service, rig.service.translator
        items = [item for n in range(messages) for item in translator.to_hub(demo_frame(500_000 + n, assistance=False))]
        as_built = "as_built" in inspect.signature(edxl.wrap).parameters
        extra: dict[str, Any] = {"as_built": True} if as_built else {}
        check = getattr(edxl, "checked_payload", None) or edxl._payload_dict
        text = str(uuid.uuid4())

        def wrap(item: Any) -> dict[str, Any]:
            return edxl.wrap(item.name, item.payload, sender_id=SAMU, recipient_id=SDIS, now=rig.now(),
                             message_uuid=text, **extra)

        bodies = iter([wrap(item) for item in items] * 5)
        rows = [
            ("payload check (validate, + dump before)", _best(items, lambda i: check(i.name, i.payload))),
            ("wrap (envelope + payload check)", _best(items, wrap)),
            ("encode_hub: JSON bytes", _best(items, lambda _: translator.encode_hub(next(bodies), "application/json"))),
        ]
        if hasattr(edxl, "wrap_json"):  # since issue 18's fourth pass: the envelope's JSON written once per addressing
            from bridge.refdata.hub_bodies import dumps_hub

            rows.append(("wrap_json (check + envelope + JSON bytes)", _best(items, lambda i: edxl.wrap_json(
                i.name, i.payload, sender_id=SAMU, recipient_id=SDIS, now=rig.now(), message_uuid=text,
                dumps=dumps_hub))))
        return [
            *rows,
            ("translation_notes", _best(items, lambda i: translation_notes(i.mapped, i.dropped, i.warnings))),
            ("_case_shared (store.has_case)", _best(items, lambda i: service._case_shared(i.case_id))),
            ("new UUID + clock (the rig's)", _best(items, lambda _: (service.new_uuid(), service.clock()))),
            ("service._wrap, all of it", _best(items, service._wrap)),
        ]
    finally:
        rig.close()


def rcref_parts(messages: int = 600) -> list[tuple[str, float]]:
    from bridge.core.edxl import make_reference, unwrap, wrap
    from bridge.runtime.demo import demo_frame
    from bridge.testing.rig import SAMU, SDIS, Rig

    rig = Rig(Path(tempfile.mkdtemp(prefix="bridge-rcref-parts-")), max_pending=10 * messages, peer_listening=False)
    try:
        service, store, translator = rig.service, rig.store, rig.service.translator
        for n in range(messages):
            rig.settled(service.on_legacy_frame(demo_frame(700_000 + n, assistance=False)))
        ours = [m for m in store.recent(2 * messages) if m.direction.value == "out"]
        bodies = [translator.encode_hub(wrap("reference", make_reference(m.distribution_id), sender_id=SDIS,
                                             recipient_id=SAMU, now=rig.now(), message_uuid=str(uuid.uuid4()),
                                             kind="Ack"), "application/json") for m in ours]
        documents = [translator.decode_hub(b, "application/json") for b in bodies]
        received = [service._read(b, "application/json") for b in bodies]
        return [
            ("decode_hub: strict JSON", _best(bodies, lambda b: translator.decode_hub(b, "application/json"))),
            ("unwrap: envelope, header, payload", _best(documents, unwrap)),
            ("addressing checks", _best(received, lambda r: service._addressing_problem(r, "ack"))),
            ("store.outbound_body", _best(received, lambda r: store.outbound_body(r.payload["distributionID"]))),
            ("'from our recipient' check, all of it", _best(received, service._ack_problem)),
            ("service._read, all of it", _best(bodies, lambda b: service._read(b, "application/json"))),
        ]
    finally:
        rig.close()


def main() -> int:
    configure_logging("json", "WARNING", stream=io.StringIO())
    print("service._wrap, per message (demo sheet's createCase):")
    _print(wrap_parts())
    print("RC-REF read and check, per RC-REF:")
    _print(rcref_parts())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
