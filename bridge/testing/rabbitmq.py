"""A private RabbitMQ node for tests and benchmarks: mTLS + EXTERNAL on loopback ports.

Everything is started from a temporary directory with free loopback ports and a
unique node name, so several runs (and a system broker) can coexist. The node
runs as the current user with ``HOME`` set to that directory (the Erlang
cookie lives there, shared with our ``rabbitmqctl`` calls), and we start its
``epmd`` ourselves on a private port so that we know its PID and stop exactly
what we started. Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from bridge.edges.certs import TestCA, make_test_ca

SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
CTL = Path("/usr/lib/rabbitmq/bin/rabbitmqctl")
INSTALLED_MARKER = Path("/usr/sbin/rabbitmq-server")
PLUGINS = "[rabbitmq_management,rabbitmq_auth_mechanism_ssl]."


def rabbitmq_missing_reason() -> str | None:
    """Why a private broker cannot start here, or None when it can."""
    if not INSTALLED_MARKER.exists() or not SERVER.exists():
        return "RabbitMQ is not installed (/usr/sbin/rabbitmq-server): `apt-get install rabbitmq-server` (.ci/run does)"
    if shutil.which("epmd") is None:
        return "epmd (Erlang) not found on PATH"
    return None


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Broker:
    """A running private node: its ports, certificates and a ``rabbitmqctl`` helper."""

    directory: Path
    nodename: str
    amqps_port: int
    amqp_port: int
    management_port: int
    dist_port: int
    epmd_port: int
    ca: TestCA
    env: dict[str, str]
    server: subprocess.Popen | None = None
    epmd: subprocess.Popen | None = None
    admin_user: str = "guest"
    admin_password: str = "guest"
    host: str = "127.0.0.1"
    pids: list[int] = field(default_factory=list)

    @property
    def cert_dir(self) -> Path:
        return self.ca.directory

    @property
    def management_url(self) -> str:
        return f"http://{self.host}:{self.management_port}"

    def rabbitmqctl(self, *args: str, timeout: float = 60) -> str:
        """Run ``rabbitmqctl -n NODE ARGS`` against this node; raise on failure."""
        done = subprocess.run([str(CTL), "-n", self.nodename, *args], env=self.env, capture_output=True,
                              text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)} failed ({done.returncode}): {done.stderr or done.stdout}")
        return done.stdout

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the node's logs, for failure messages."""
        text = []
        for path in sorted((self.directory / "log").glob("*.log")) + [self.directory / "server.out"]:
            if path.exists():
                text.append(f"== {path.name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:]))
        return "\n".join(text)

    def stop(self, timeout: float = 30) -> None:
        """Stop the node and our epmd, by PID: SIGTERM (a graceful stop), then SIGKILL to their groups."""
        for process in (self.server, self.epmd):
            if process is not None:
                _end(process, timeout)


def _end(process: subprocess.Popen, timeout: float) -> None:
    """SIGTERM ``process``, wait (bounded), then SIGKILL what is left of the process group it leads.

    Each process was started with ``start_new_session=True``, so its group holds
    only what it started (the server script's Erlang VM); nothing else is touched.
    """
    if process.poll() is None:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(10)


def _write_config(directory: Path, broker: Broker) -> None:
    ca = broker.ca
    (directory / "enabled_plugins").write_text(PLUGINS + "\n")
    (directory / "rabbitmq-env.conf").write_text("# private test node: no settings from /etc/rabbitmq\n")
    (directory / "rabbitmq.conf").write_text("\n".join([
        f"listeners.tcp.default = 127.0.0.1:{broker.amqp_port}",
        f"listeners.ssl.default = 127.0.0.1:{broker.amqps_port}",
        f"ssl_options.certfile = {ca.server_cert}",
        f"ssl_options.keyfile = {ca.server_key}",
        f"ssl_options.cacertfile = {ca.ca_cert}",
        "ssl_options.verify = verify_peer",
        "ssl_options.fail_if_no_peer_cert = true",
        "ssl_options.versions.1 = tlsv1.3",
        "ssl_options.versions.2 = tlsv1.2",
        "auth_mechanisms.1 = PLAIN",
        "auth_mechanisms.2 = EXTERNAL",
        "ssl_cert_login_from = common_name",
        "management.tcp.ip = 127.0.0.1",
        f"management.tcp.port = {broker.management_port}",
        "log.console = false",
        "log.file.level = info",
        "",
    ]))


def _environment(directory: Path, nodename: str, dist_port: int, epmd_port: int) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("RABBITMQ_", "ERL_"))}
    env.update({
        "HOME": str(directory),  # the Erlang cookie, shared by the node and our rabbitmqctl
        "RABBITMQ_CONFIG_FILE": str(directory / "rabbitmq"),
        "RABBITMQ_MNESIA_BASE": str(directory / "mnesia"),
        "RABBITMQ_LOG_BASE": str(directory / "log"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(directory / "enabled_plugins"),
        "RABBITMQ_PLUGINS_EXPAND_DIR": str(directory / "plugins-expand"),
        "RABBITMQ_PID_FILE": str(directory / "node.pid"),
        "RABBITMQ_CONF_ENV_FILE": str(directory / "rabbitmq-env.conf"),  # ours (empty), not /etc/rabbitmq's
        "RABBITMQ_NODENAME": nodename,
        "RABBITMQ_DIST_PORT": str(dist_port),
        "ERL_EPMD_PORT": str(epmd_port),
        "ERL_EPMD_ADDRESS": "127.0.0.1",
        # the inter-node distribution port listens on loopback too, like every other listener.
        # +sbwt none: idle Erlang schedulers sleep instead of spinning; on a small machine shared
        # with the bridge, the dispatcher and the simulator, the spinning took CPU from all of them
        # (the RabbitMQ docs recommend it for CPU-constrained hosts).
        "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": (
            "-kernel inet_dist_use_interface {127,0,0,1} +sbwt none +sbwtdcpu none +sbwtdio none"),
    })
    return env


def start_broker(
    directory: Path,
    clients: list[str],
    *,
    expired_clients: tuple[str, ...] = (),
    other_ca_clients: tuple[str, ...] = (),
    startup_timeout: float = 120,
) -> Broker:
    """Make a test CA in ``directory`` and start a private node; stop it with ``Broker.stop()``."""
    reason = rabbitmq_missing_reason()
    if reason:
        raise RuntimeError(reason)
    directory.mkdir(parents=True, exist_ok=True)
    ca = make_test_ca(directory / "certs", clients, expired_clients=expired_clients,
                      other_ca_clients=other_ca_clients)
    nodename = f"bridgetest-{uuid.uuid4().hex[:10]}@localhost"
    ports = [free_port() for _ in range(5)]
    env = _environment(directory, nodename, ports[3], ports[4])
    broker = Broker(directory, nodename, *ports, ca=ca, env=env)
    _write_config(directory, broker)
    broker.epmd = subprocess.Popen(["epmd", "-port", str(broker.epmd_port), "-address", "127.0.0.1"],
                                   env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True)
    with open(directory / "server.out", "wb") as out:
        broker.server = subprocess.Popen([str(SERVER)], env=env, cwd=directory, stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    broker.pids = [broker.epmd.pid, broker.server.pid]
    try:
        _await_ready(broker, startup_timeout)
    except BaseException:
        broker.stop(timeout=10)
        raise
    return broker


def _await_ready(broker: Broker, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if broker.server is not None and broker.server.poll() is not None:
            raise RuntimeError(f"rabbitmq-server exited with {broker.server.returncode}\n{broker.log_tail()}")
        if _listening(broker.host, broker.amqp_port) and _listening(broker.host, broker.management_port):
            broker.rabbitmqctl("await_startup", timeout=max(5.0, deadline - time.monotonic()))
            return
        time.sleep(0.5)
    raise RuntimeError(f"rabbitmq-server not ready after {timeout:.0f} s\n{broker.log_tail()}")


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False
