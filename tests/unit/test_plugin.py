"""A third-party package adds a format through the ``hub_bridge.adapters`` entry point, touching nothing in bridge/."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from bridge.cli.main import cli
from bridge.core.adapters.base import AdapterContext
from bridge.core.pipeline import translate
from bridge.refdata.adapters import discover

PLUGIN = Path(__file__).resolve().parents[1] / "fixtures" / "plugin_demo"


@pytest.fixture(scope="module")
def demo_plugin(tmp_path_factory):
    """The demo plugin pip-installed (no deps, no network) into a temporary target put on sys.path."""
    if importlib.util.find_spec("wheel") is None:
        pytest.skip("the 'wheel' package (test extra) is needed to build the demo plugin offline")
    target = tmp_path_factory.mktemp("plugin-site")
    build = tmp_path_factory.mktemp("plugin-src") / "plugin_demo"
    shutil.copytree(PLUGIN, build)
    completed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
         "--target", str(target), str(build)], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    sys.path.insert(0, str(target))
    yield target
    sys.path.remove(str(target))
    for name in [m for m in sys.modules if m.startswith("hub_bridge_demo")]:
        del sys.modules[name]


def test_adapters_list_shows_the_plugin(demo_plugin):
    """`bridge adapters list` shows the plugin's adapter with its direction, version and package."""
    result = CliRunner().invoke(cli, ["adapters", "list"])
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if line.startswith("demo-csv"))
    assert line.split() == ["demo-csv", "both", "0.3.1", "hub-bridge-demo-plugin"]
    assert "legacy-text" in result.output


def test_translate_through_the_plugin(demo_plugin):
    """A plugin format translates to RC-EDA and back through the pipeline like a built-in one."""
    installed = discover()
    ctx = AdapterContext(now=datetime(2024, 1, 1, tzinfo=UTC), new_id=lambda: "id-1",
                         sender_id="fr.health.samu440")
    result = translate(b"D-42;2024-03-01T10:00:00+01:00;C04.00.00;Nantes", source="demo-csv",
                       target="rc-eda-json", ctx=ctx, installed=installed)
    assert json.loads(result.data)["createCase"]["caseId"] == "fr.health.samu440.D-42"
    back = translate(result.data, source="rc-eda-json", target="demo-csv", ctx=ctx, installed=installed)
    assert back.data == b"D-42;2024-03-01T10:00:00+01:00;C04.00.00;Nantes"


def test_cli_translate_with_plugin(demo_plugin, tmp_path):
    """`bridge translate --from demo-csv --to rc-eda-json` works for an installed plugin."""
    source = tmp_path / "case.csv"
    source.write_bytes("D-7;2024-03-01T10:00:00+01:00;C04.00.00;Rezé".encode())
    result = CliRunner().invoke(cli, ["translate", str(source), "--from", "demo-csv", "--to", "rc-eda-json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["createCase"]["senderCaseId"] == "D-7"


def test_plugin_shadowing_a_builtin_is_refused(monkeypatch):
    """An entry point reusing a built-in name is refused, naming the offending package."""
    from importlib.metadata import EntryPoint

    from bridge.core.errors import BridgeError
    from bridge.refdata import adapters as registry

    rogue = EntryPoint(name="legacy-text", value="rogue.adapter:Fake", group=registry.GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: [rogue])
    with pytest.raises(BridgeError, match="built in") as caught:
        registry.discover()
    assert caught.value.issues[0].code == "bad-plugin"
