"""CPU of the parts of the translate and wrap steps, per case sheet, for two legacy profiles (issue 18, fifth pass).

Finer than ``benchmarks/hot_path.py``: the rig's translator and service (``bridge.testing.rig``) on
``--sheets`` sheets of each profile: lrm-alpha-text (the demo sheet of ``hot_path.py``, KEY=VALUE lines)
and lrm-beta-text (its golden ``normal`` line, ``;``-delimited columns with coordinates and victims, the
dossier number changed per sheet). Each part is timed alone over all sheets, best of ``--passes`` passes,
``time.process_time``, garbage collector off while timing; caches are warm (the same sheets again), so
the sum is below what ``hot_path.py`` reads between the store's steps. It runs on any checkout since
issue 18's fourth pass, so main and a branch can be compared in the same minutes:

    .venv/bin/python benchmarks/translate_parts.py [--sheets 1000] [--passes 7] [--profile FILE]

``--profile FILE``: instead, ``to_hub`` and ``_wrap`` of every sheet of both profiles once under
``cProfile`` (CPU clock), statistics written to FILE and the top functions by internal time printed.
"""

from __future__ import annotations

import argparse
import gc
import io
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wrap_parts import _best  # the same best-of-passes CPU timer (benchmarks/ is this script's sys.path[0])

from bridge.runtime.logging import configure_logging

PROFILES = ("lrm-alpha-text", "lrm-beta-text")
MESSAGE_UUID = "0c16439b-b284-4cd5-9509-4f769ddaf8b5"


def frames_of(profile: str, sheets: int) -> list[bytes]:
    from bridge.runtime.demo import demo_frame

    if profile == "lrm-alpha-text":
        return [demo_frame(800_000 + n, assistance=False) for n in range(sheets)]
    line = (ROOT / "tests" / "golden" / "lrm-beta-text" / "normal.txt").read_bytes()
    return [line.replace(b"B-2024-7781", f"B-2024-{n:06d}".encode()) for n in range(sheets)]


def parts(profile: str, sheets: int, passes: int) -> list[tuple[str, float]]:
    from bridge.app.records import translation_notes
    from bridge.core import confidentiality, edxl, pipeline
    from bridge.core.adapters.rc_eda import encode_create_case
    from bridge.core.adapters.registry import get_adapter
    from bridge.refdata.hub_bodies import dumps_hub
    from bridge.testing.rig import SAMU, SDIS, Rig

    rig = Rig(Path(tempfile.mkdtemp(prefix="bridge-translate-parts-")), profile=profile, max_pending=10 * sheets)
    try:
        translator, service = rig.service.translator, rig.service
        frames = frames_of(profile, sheets)
        for frame in frames[:20]:
            translator.to_hub(frame)
        adapter = get_adapter(translator.profile_model.adapter, translator.ctx.adapters)
        contexts = [translator._ctx(translator._recorder()) for _ in frames]
        decoded = [adapter.decode(f, c) for f, c in zip(frames, contexts, strict=True)]
        items = [translator.to_hub(f)[0] for f in frames]
        gc.collect()
        gc.disable()
        try:
            return [
                ("translate: translator.to_hub, all of it", _best(frames, translator.to_hub, passes)),
                ("  frame context + lookup recorder", _best(frames, lambda _: translator._ctx(translator._recorder()),
                                                            passes)),
                ("  legacy decode (adapter.decode)", _best(list(zip(frames, contexts, strict=True)),
                                                           lambda fc: adapter.decode(*fc), passes)),
                ("  pipeline._case_to_hub", _best(list(zip(decoded, contexts, strict=True)),
                                                  lambda dc: pipeline._case_to_hub(*dc), passes)),
                ("    confidentiality.apply", _best(decoded, lambda d: confidentiality.apply(
                    d.case, translator.ctx.confidentiality, translator.ctx.recipient_id), passes)),
                ("    encode_create_case", _best(list(zip(decoded, contexts, strict=True)),
                                                 lambda dc: encode_create_case(dc[0].case, dc[1]), passes)),
                ("wrap: service._wrap, all of it", _best(items, service._wrap, passes)),
                ("  new UUID + clock (the rig's)", _best(items, lambda _: (service.new_uuid(), service.clock()),
                                                         passes)),
                ("  payload check (edxl.checked_payload)", _best(items, lambda i: edxl.checked_payload(
                    i.name, i.payload), passes)),
                ("  payload JSON (dumps_hub)", _best(items, lambda i: dumps_hub(i.payload), passes)),
                ("  wrap_json (check + envelope + JSON)", _best(items, lambda i: edxl.wrap_json(
                    i.name, i.payload, sender_id=SAMU, recipient_id=SDIS, now=rig.now(), message_uuid=MESSAGE_UUID,
                    dumps=dumps_hub), passes)),
                ("  translation_notes", _best(items, lambda i: translation_notes(i.mapped, i.dropped, i.warnings),
                                              passes)),
                ("  _case_shared (store.has_case)", _best(items, lambda i: service._case_shared(i.case_id), passes)),
            ]
        finally:
            gc.enable()
    finally:
        rig.close()


def profiled(sheets: int, path: Path) -> None:
    import cProfile
    import pstats

    from bridge.testing.rig import Rig

    rigs = []
    for profile in PROFILES:
        rig = Rig(Path(tempfile.mkdtemp(prefix="bridge-translate-parts-")), profile=profile, max_pending=10 * sheets)
        frames = frames_of(profile, sheets)
        for frame in frames[:20]:
            for item in rig.service.translator.to_hub(frame):
                rig.service._wrap(item)
        rigs.append((rig, frames))
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for rig, frames in rigs:
        translator, service = rig.service.translator, rig.service
        for frame in frames:
            for item in translator.to_hub(frame):
                service._wrap(item)
    profiler.disable()
    for rig, _ in rigs:
        rig.close()
    profiler.dump_stats(str(path))
    print(f"profile of {sheets} sheets of each of {', '.join(PROFILES)} written to {path}; by internal time:")
    pstats.Stats(str(path), stream=sys.stdout).sort_stats("tottime").print_stats(30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sheets", type=int, default=1000)
    parser.add_argument("--passes", type=int, default=7)
    parser.add_argument("--profile", type=Path, default=None, metavar="FILE")
    args = parser.parse_args()
    configure_logging("json", "INFO", stream=io.StringIO())
    if args.profile is not None:
        profiled(args.sheets, args.profile)
        return 0
    for profile in PROFILES:
        print(f"{profile}: CPU per sheet, best of {args.passes} passes over {args.sheets} sheets (us)")
        for name, micros in parts(profile, args.sheets, args.passes):
            print(f"  {name:42s} {micros:7.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
