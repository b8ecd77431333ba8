"""A console server over a store filled with an hour of believable traffic (run as a subprocess by the tests).

``python -m tests.integration.console_server STORE`` prints one JSON line (the port and what the store
holds) and serves until SIGTERM. Its provider has the live translator: usage counts and "try a frame" work.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import UTC, datetime


def main(store_path: str) -> None:
    from twisted.internet import reactor

    from bridge.edges.http import MappingCoverage, StoreConsoleProvider, start_http
    from bridge.edges.metrics import BridgeMetrics
    from bridge.edges.store import Store
    from bridge.refdata.mapping_loader import MappingReloader
    from bridge.refdata.nomenclature_store import load_nomenclatures
    from bridge.refdata.resources import project_dir
    from bridge.runtime.config import load_config
    from bridge.runtime.logging import configure_logging
    from bridge.testing.console_traffic import SAMU, fill_store, make_translator

    configure_logging("json", stream=sys.stderr)  # stdout carries only the JSON line
    store = Store.open(store_path)
    clock = lambda: datetime.now(UTC)
    translator = make_translator(clock)
    traffic = fill_store(store, clock(), translator=translator)
    translator.clock = clock
    reloader = MappingReloader(project_dir("mappings"), load_nomenclatures())
    provider = StoreConsoleProvider(
        store, clock=clock, instance="samu44-bridge", coverage_fn=MappingCoverage(reloader),
        mapping_version=lambda: reloader.version, broker_connected=lambda: True, case_prefix=SAMU,
        encodings={translator.profile: translator.profile_model.encoding}, usage_fn=translator.usage.snapshot,
        try_frame_fn=translator.preview)
    config = load_config(None, {"HUB_BRIDGE__HTTP__PORT": "0"}, check=False)
    metrics = BridgeMetrics(snapshot=provider.metrics_snapshot)
    port = start_http(reactor, config.http, metrics=metrics, checks={"store_writable": store.is_writable},
                      provider=provider)
    print(json.dumps({"port": port.getHost().port, **asdict(traffic)}), flush=True)
    reactor.run()


if __name__ == "__main__":
    main(sys.argv[1])
