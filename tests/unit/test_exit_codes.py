"""Every command's exit codes are the ones its --help lists, each one produced by a scenario.

Each leaf command's help has an "Exit codes:" paragraph (``0 meaning; 1 meaning; ...``).
``SCENARIOS`` holds, per command and code, a scenario run in process with click's runner;
``ELSEWHERE`` names the test that shows a code which needs a process of its own (a reactor
run, a broker) or the official corpus. ``test_every_documented_code_is_exercised`` fails when a
command or a code is added without either.
"""

from __future__ import annotations

import ast
import contextlib
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from bridge.cli.main import cli
from bridge.core.errors import BridgeError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BRIDGE = Path(sys.executable).with_name("bridge")

Scenario = Callable[[Path, pytest.MonkeyPatch], list[str]]


def leaf_commands() -> dict[str, click.Command]:
    ctx = click.Context(cli)
    found: dict[str, click.Command] = {}

    def walk(group: click.Group, prefix: list[str]) -> None:
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            if isinstance(command, click.Group):
                walk(command, [*prefix, name])
            else:
                found[" ".join([*prefix, name])] = command

    walk(cli, [])
    return found


def documented_codes(command: click.Command) -> dict[int, str]:
    """``{code: meaning}`` from the "Exit codes:" paragraph of the command's help."""
    text = " ".join((command.help or "").split())
    match = re.search(r"Exit codes: (.*?)(?:$|\. [A-Z])", text)
    assert match, "no 'Exit codes:' paragraph"
    return {int(code): meaning.strip() for code, meaning in re.findall(r"(?:^|; )(\d) ([^;]+)", match.group(1))}


# -- fixtures of the scenarios --------------------------------------------------------------------------------

def _store(tmp: Path, monkeypatch: pytest.MonkeyPatch, *, dead_letter: bool = False) -> Path:
    from datetime import UTC, datetime

    from bridge.edges.store import Store

    path = tmp / "s.sqlite3"
    now = datetime.now(UTC)
    with Store.open(path) as store:
        store.accept_outbound(b"WAITING", adapter="legacy-text", profile="demo", received_at=now)
        if dead_letter:
            store.dead_letter(b"FRAME", error="x", error_path=None, source="legacy", at=now, direction="out",
                              adapter="legacy-text", profile="demo")
    monkeypatch.setenv("HUB_BRIDGE__STORE__PATH", str(path))
    return path


def _no_store(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_BRIDGE__STORE__PATH", str(tmp / "missing.sqlite3"))


def _bad_config(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_BRIDGE__STORE__MAX_PENDING", "lots")


def _file(tmp: Path, name: str, data: bytes) -> str:
    path = tmp / name
    path.write_bytes(data)
    return str(path)


def _demo_sheet(tmp: Path) -> str:
    from bridge.runtime.demo import demo_frame

    return _file(tmp, "sheet.txt", demo_frame(1))


def _create_case(tmp: Path) -> str:
    """A valid createCase made by the bridge itself (no corpus needed)."""
    result = CliRunner().invoke(cli, ["translate", _demo_sheet(tmp), "--from", "legacy-text", "--to", "rc-eda-json",
                                      "--profile", "lrm-alpha-text"])
    assert result.exit_code == 0, result.output
    return _file(tmp, "case.json", result.stdout_bytes)


def _broken_mappings(tmp: Path) -> str:
    target = tmp / "mappings"
    from bridge.refdata.resources import project_dir

    shutil.copytree(project_dir("mappings"), target)
    table = next(target.glob("lrm-alpha-nature.csv"))
    table.write_text(table.read_text(encoding="utf-8") + "NOPE,Z99.99.99,both,,code unknown to the lists\n",
                     encoding="utf-8")
    return str(target)


def _mappings_copy(tmp: Path, name: str, *, nature: str | None = None) -> str:
    """A copy of the shipped tables; ``nature`` replaces lrm-alpha-nature.csv's GAZ row target."""
    from bridge.refdata.resources import project_dir

    target = tmp / name
    shutil.copytree(project_dir("mappings"), target)
    if nature is not None:
        table = target / "lrm-alpha-nature.csv"
        table.write_text(table.read_text(encoding="utf-8").replace("GAZ,C09.03.00,", f"GAZ,{nature},"),
                         encoding="utf-8")
    return str(target)


def _mappings_test(tmp: Path, *, new: str, baseline: str | None = None) -> list[str]:
    corpus = PROJECT_ROOT / "tests" / "golden" / "lrm-alpha-text"
    return ["mappings", "test", str(corpus), "--profile", "lrm-alpha-text",
            "--baseline", baseline or _mappings_copy(tmp, "old"), "--mappings", new]


def _unloadable_mappings(tmp: Path) -> str:
    target = _mappings_copy(tmp, "unloadable")
    (Path(target) / "lrm-alpha-nature.csv").write_text("garbage\n", encoding="utf-8")
    return target


def _broken_discover(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    def discover():
        raise BridgeError("adapter plugin 'x' is broken")

    monkeypatch.setattr("bridge.refdata.adapters.discover", discover)
    return ["adapters", "list"]


def _empty_schemas(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """--schemas on an empty folder: refused before any broker is contacted (a closed port would give 4)."""
    (tmp / "empty").mkdir()
    return ["hub-emulator", "--client", "fr.health.samu440", "--provision-only", "--schemas", str(tmp / "empty"),
            "--management-url", f"http://127.0.0.1:{_closed_port()}"]


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


SCENARIOS: dict[str, dict[int, Scenario]] = {
    "adapters list": {0: lambda t, m: ["adapters", "list"], 3: _broken_discover},
    "certs make-test-ca": {
        0: lambda t, m: ["certs", "make-test-ca", str(t / "ca"), "--client", "fr.health.samu440"],
        2: lambda t, m: ["certs", "make-test-ca", _file(t, "a-file", b"x"), "--client", "fr.health.samu440"],
    },
    "config check": {
        0: lambda t, m: ["config", "check"], 2: lambda t, m: ["config", "check", "--nope"],
        3: lambda t, m: ["config", "check", "--config", str(t / "missing.toml")],
    },
    "config show": {
        0: lambda t, m: ["config", "show"], 2: lambda t, m: ["config", "show", "--nope"],
        3: lambda t, m: ["config", "show", "--config", _file(t, "bad.toml", b"[hub]\nport = 'x'\n")],
    },
    "demo": {2: lambda t, m: ["demo", "--hub", "amqps://127.0.0.1:5671/v"]},
    "dlq list": {
        0: lambda t, m: _store(t, m) and ["dlq", "list"], 2: lambda t, m: _no_store(t, m) or ["dlq", "list"],
        3: lambda t, m: _bad_config(t, m) or ["dlq", "list"],
    },
    "dlq show": {
        0: lambda t, m: _store(t, m, dead_letter=True) and ["dlq", "show", "1"],
        2: lambda t, m: _store(t, m) and ["dlq", "show", "99"],
        3: lambda t, m: _bad_config(t, m) or ["dlq", "show", "1"],
    },
    "dlq replay": {
        0: lambda t, m: _store(t, m, dead_letter=True) and ["dlq", "replay", "1"],
        1: lambda t, m: _store(t, m, dead_letter=True) and m.setenv("HUB_BRIDGE__STORE__MAX_PENDING", "1")
        or ["dlq", "replay", "1"],
        2: lambda t, m: _store(t, m) and ["dlq", "replay"],
        3: lambda t, m: _bad_config(t, m) or ["dlq", "replay", "1"],
    },
    "hub-emulator": {
        2: lambda t, m: ["hub-emulator"], 3: _empty_schemas,
        4: lambda t, m: ["hub-emulator", "--client", "fr.health.samu440", "--provision-only",
                         "--management-url", f"http://127.0.0.1:{_closed_port()}"],
    },
    "mappings coverage": {
        0: lambda t, m: ["mappings", "coverage"], 2: lambda t, m: ["mappings", "coverage", str(t / "missing")],
    },
    "mappings lint": {
        0: lambda t, m: ["mappings", "lint"], 1: lambda t, m: ["mappings", "lint", _broken_mappings(t)],
        2: lambda t, m: ["mappings", "lint", str(t / "missing")],
    },
    "mappings diff": {
        0: lambda t, m: ["mappings", "diff", _mappings_copy(t, "a"), _mappings_copy(t, "b")],
        1: lambda t, m: ["mappings", "diff", _mappings_copy(t, "a"), _mappings_copy(t, "b", nature="C09.01.00")],
        2: lambda t, m: ["mappings", "diff", str(t / "missing"), _mappings_copy(t, "b")],
    },
    "mappings test": {
        0: lambda t, m: _mappings_test(t, new=_mappings_copy(t, "new")),
        1: lambda t, m: _mappings_test(t, new=_mappings_copy(t, "new", nature="C09.01.00")),
        2: lambda t, m: _mappings_test(t, new=str(t / "missing")),
        3: lambda t, m: _mappings_test(t, new=_mappings_copy(t, "new"), baseline=_unloadable_mappings(t)),
    },
    "messages export": {
        0: lambda t, m: _store(t, m) and ["messages", "export", "--since", "7d", str(t / "corpus")],
        2: lambda t, m: _no_store(t, m) or ["messages", "export", "--since", "7d", str(t / "corpus")],
        3: lambda t, m: _bad_config(t, m) or ["messages", "export", "--since", "7d", str(t / "corpus")],
    },
    "messages list": {
        0: lambda t, m: _store(t, m) and ["messages", "list"], 2: lambda t, m: _no_store(t, m) or ["messages", "list"],
        3: lambda t, m: _bad_config(t, m) or ["messages", "list"],
    },
    "messages show": {
        0: lambda t, m: _store(t, m) and ["messages", "show", "1"],
        2: lambda t, m: _store(t, m) and ["messages", "show", "--case", "NOPE"],
        3: lambda t, m: _bad_config(t, m) or ["messages", "show", "1"],
    },
    "nexsis-sim": {2: lambda t, m: ["nexsis-sim"]},
    "nomenclatures import": {
        0: lambda t, m: ["nomenclatures", "import", str(PROJECT_ROOT / "nomenclatures")],
        2: lambda t, m: (t / "empty").mkdir() or ["nomenclatures", "import", str(t / "empty")],
    },
    "nomenclatures list": {
        0: lambda t, m: ["nomenclatures", "list"],
        2: lambda t, m: ["nomenclatures", "list", "--nomenclatures", str(t / "missing")],
    },
    "nomenclatures show": {
        0: lambda t, m: ["nomenclatures", "show", "lrm-alpha.nature"],
        1: lambda t, m: ["nomenclatures", "show", "no-such-list"],
        2: lambda t, m: ["nomenclatures", "show", "x", "--nomenclatures", str(t / "missing")],
    },
    "replay": {
        0: lambda t, m: _store(t, m) and ["replay", "--from", "1h"],
        2: lambda t, m: _store(t, m) and ["replay", "--from", "soon"],
        3: lambda t, m: _bad_config(t, m) or ["replay", "--from", "1h"],
    },
    "run": {
        2: lambda t, m: ["run", "--nope"],
        3: lambda t, m: m.delenv("HUB_BRIDGE_CONFIG", raising=False) or ["run"],
    },
    "schemas install": {2: lambda t, m: ["schemas", "install", str(t)]},
    "schemas list": {0: lambda t, m: ["schemas", "list"], 2: lambda t, m: ["schemas", "list", "--nope"]},
    "send": {3: lambda t, m: m.setenv("HUB_BRIDGE__LEGACY__PORT", "x") or [
        "send", _file(t, "f", b"x"), "--profile", "lrm-alpha-text"]},
    "store purge": {
        0: lambda t, m: _store(t, m) and ["store", "purge"], 2: lambda t, m: _no_store(t, m) or ["store", "purge"],
        3: lambda t, m: _bad_config(t, m) or ["store", "purge"],
    },
    "store stats": {
        0: lambda t, m: _store(t, m) and ["store", "stats"], 2: lambda t, m: _no_store(t, m) or ["store", "stats"],
        3: lambda t, m: _bad_config(t, m) or ["store", "stats"],
    },
    "translate": {
        0: lambda t, m: ["translate", _demo_sheet(t), "--from", "legacy-text", "--to", "rc-eda-json",
                         "--profile", "lrm-alpha-text"],
        1: lambda t, m: ["translate", _file(t, "m.json", b'{"reference": {"distributionID": "x", "zzz": true}}')],
        2: lambda t, m: ["translate", _file(t, "empty.json", b"")],
        3: lambda t, m: ["translate", _file(t, "m.json", b"{}"), "--from", "no-such-adapter", "--to", "rc-eda-json"],
    },
    "validate": {
        0: lambda t, m: ["validate", _create_case(t)],
        1: lambda t, m: ["validate", _file(t, "m.json", b'{"reference": {"distributionID": 1}}')],
        2: lambda t, m: ["validate", _file(t, "empty.json", b"   ")],
        3: lambda t, m: ["validate", "--schemas", str(t), _file(t, "m.json", b'{"reference": {"distributionID": "x"}}')],
    },
}

# codes shown by a test elsewhere: they need a reactor run of their own, a broker or the corpus
ELSEWHERE: dict[str, dict[int, str]] = {
    "demo": {0: "tests/integration/test_demo_cli.py::test_demo_200_messages_all_acknowledged_and_answered",
             4: "tests/integration/test_demo_cli.py::test_demo_with_refusing_peer_reports_failure"},
    "hub-emulator": {0: "tests/integration/test_hub_emulator_cli.py::test_provision_only_creates_queues_users_and_permissions"},
    "nexsis-sim": {0: "tests/unit/test_exit_codes.py::test_nexsis_sim_stops_with_0_on_sigterm"},
    "run": {0: "tests/unit/test_exit_codes.py::test_run_embedded_stops_with_0_on_sigterm",
            4: "tests/unit/test_exit_codes.py::test_run_exits_4_when_a_port_is_taken"},
    "schemas install": {0: "tests/unit/test_cli_translate.py::test_schemas_install_and_list"},
    "send": {0: "tests/unit/test_send_cmd.py::test_acked_frames_exit_0_and_handed_over_messages_are_shown",
             1: "tests/unit/test_send_cmd.py::test_a_nack_exits_1",
             2: "tests/unit/test_send_cmd.py::test_usage_errors_exit_2",
             4: "tests/unit/test_send_cmd.py::test_no_reply_exits_4"},
}


def _cases() -> list[tuple[str, int]]:
    return [(name, code) for name, codes in sorted(SCENARIOS.items()) for code in sorted(codes)]


def _test_exists(where: str) -> bool:
    path, _, name = where.partition("::")
    tree = ast.parse((PROJECT_ROOT / path).read_text(encoding="utf-8"))
    return any(isinstance(node, ast.FunctionDef) and node.name == name for node in ast.walk(tree))


def test_every_documented_code_is_exercised():
    missing, undocumented = [], []
    for name, command in leaf_commands().items():
        documented = documented_codes(command)
        covered = set(SCENARIOS.get(name, {})) | set(ELSEWHERE.get(name, {}))
        missing += [f"{name}: {code}" for code in sorted(set(documented) - covered)]
        undocumented += [f"{name}: {code}" for code in sorted(covered - set(documented))]
    assert missing == [], "documented exit codes without a scenario"
    assert undocumented == [], "scenarios for codes the help does not list"
    assert [where for codes in ELSEWHERE.values() for where in codes.values() if not _test_exists(where)] == []


@pytest.mark.parametrize(("name", "code"), _cases())
def test_exit_code_matches_help(name: str, code: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("HUB_BRIDGE_CONFIG", raising=False)
    args = SCENARIOS[name][code](tmp_path, monkeypatch)
    result = CliRunner().invoke(cli, args)
    if isinstance(result.exception, Exception) and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == code, result.output[-2000:]
    assert code in documented_codes(leaf_commands()[name])


@contextlib.contextmanager
def _started(args: list[str], tmp_path: Path, **env: str) -> Iterator[subprocess.Popen]:
    """`bridge ARGS` as a child process, killed (by its own handle) if still running when the block ends."""
    import os

    environment = {k: v for k, v in os.environ.items() if not k.startswith("HUB_BRIDGE_")}
    environment.update(HUB_BRIDGE_HOME=str(tmp_path / "home"), **env)
    process = subprocess.Popen([str(BRIDGE), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=environment, stdin=subprocess.DEVNULL)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def _embedded_env(tmp_path: Path, http_port: int = 0) -> dict[str, str]:
    return {"HUB_BRIDGE__LEGACY__PORT": "0", "HUB_BRIDGE__HTTP__PORT": str(http_port),
            "HUB_BRIDGE__STORE__PATH": str(tmp_path / "run.sqlite3"), "HUB_BRIDGE__LOGGING__FORMAT": "json"}


def _wait_for_line(process: subprocess.Popen, needle: str, timeout: float = 30) -> str:
    """Read stderr until a line holding ``needle`` (bounded by ``timeout`` through a watchdog)."""
    import threading

    timer = threading.Timer(timeout, process.kill)
    timer.start()
    try:
        seen = []
        for line in process.stderr:
            seen.append(line)
            if needle in line:
                return "".join(seen)
        return "".join(seen)
    finally:
        timer.cancel()


def test_run_embedded_stops_with_0_on_sigterm(tmp_path: Path):
    """`bridge run --embedded` prints its banner with the console URL, then SIGTERM stops it with 0."""
    import signal

    with _started(["run", "--embedded"], tmp_path, **_embedded_env(tmp_path)) as process:
        banner = _wait_for_line(process, "console  http://127.0.0.1:")
        assert "console  http://127.0.0.1:" in banner and "WARNING  embedded mode" in _wait_for_line(process, "WARNING")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0


def test_run_exits_4_when_a_port_is_taken(tmp_path: Path):
    """A busy HTTP port: exit 4, and the message names the setting to change."""
    import socket

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        with _started(["run", "--embedded"], tmp_path, **_embedded_env(tmp_path, holder.getsockname()[1])) as process:
            _, stderr = process.communicate(timeout=60)
    assert process.returncode == 4
    assert "http.port" in stderr and "HUB_BRIDGE__HTTP__PORT" in stderr


def test_nexsis_sim_stops_with_0_on_sigterm(tmp_path: Path):
    """The simulated peer keeps retrying an absent broker and stops with 0 on SIGTERM."""
    import signal

    made = CliRunner().invoke(cli, ["certs", "make-test-ca", str(tmp_path / "certs"), "--client",
                                    "fr.fire.nexsis.sdis44"])
    assert made.exit_code == 0, made.output
    with _started(["nexsis-sim", "--certs", str(tmp_path / "certs"), "--port", str(_closed_port()),
                   "--log-format", "json"], tmp_path) as process:
        _wait_for_line(process, "amqp_connect_failed")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0


def test_hub_emulator_refuses_an_empty_schemas_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An empty --schemas folder: exit 3 naming what is missing, not a dispatcher that validates nothing."""
    result = CliRunner().invoke(cli, _empty_schemas(tmp_path, monkeypatch))
    assert result.exit_code == 3, result.output
    assert "is not a complete schema bundle" in result.stderr
    assert "json-schema: folder missing" in result.stderr and "pass --schemas DIR" in result.stderr
    assert "provisioned" not in result.stdout
