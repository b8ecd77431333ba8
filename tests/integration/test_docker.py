"""The container files: static checks everywhere, a real `docker build` where a Docker engine answers."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from bridge.runtime.config import BridgeConfig

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = PROJECT_ROOT / "Dockerfile"
COMPOSE = PROJECT_ROOT / "compose.yaml"
BUILD_TIMEOUT = 900


def compose_config_block(name: str) -> str:
    """The text of the inline ``configs: <name>: content: |`` block of compose.yaml."""
    text = COMPOSE.read_text(encoding="utf-8")
    match = re.search(rf"^  {name}:\n    content: \|\n((?:      .*\n|\n)+)", text, re.MULTILINE)
    assert match, f"compose.yaml has no inline config {name}"
    return "\n".join(line[6:] for line in match.group(1).splitlines())


def docker_engine_missing_reason() -> str | None:
    if shutil.which("docker") is None:
        return "no docker client on this machine"
    try:
        result = subprocess.run(["docker", "info"], capture_output=True, timeout=30)
    except subprocess.TimeoutExpired:
        return "`docker info` did not answer within 30 s"
    if result.returncode != 0:
        return "no Docker engine answers (`docker info` failed): the image build is tested only where one runs"
    return None


class TestDockerfile:
    def test_multi_stage_slim_non_root(self):
        """The image is built in two stages on python:3.11-slim and runs as an unprivileged user."""
        text = DOCKERFILE.read_text(encoding="utf-8")
        assert 2 == len(re.findall(r"^FROM ", text, re.MULTILINE)) and "python:3.11-slim" in text
        users = re.findall(r"^USER (\S+)", text, re.MULTILINE)
        assert users and users[-1].split(":")[0] not in ("root", "0")

    def test_healthcheck_probes_liveness_not_readiness(self):
        """The engine's health follows /healthz: a broker outage (readyz 503) must not get the bridge restarted."""
        text = DOCKERFILE.read_text(encoding="utf-8")
        healthcheck = re.search(r"^HEALTHCHECK .*\\\n(.*)$", text, re.MULTILINE)
        assert healthcheck and "/healthz" in healthcheck.group(1) and "/readyz" not in healthcheck.group(1)

    def test_base_image_is_a_build_argument_with_no_floating_default(self):
        """Both stages use ARG PYTHON_IMAGE; its default is not a pullable tag (the digest is given at build)."""
        text = DOCKERFILE.read_text(encoding="utf-8")
        assert re.findall(r"^FROM (\S+)", text, re.MULTILINE) == ["${PYTHON_IMAGE}", "${PYTHON_IMAGE}"]
        default = re.search(r"^ARG PYTHON_IMAGE=(\S+)", text, re.MULTILINE)
        assert default and (":" not in default.group(1) or "@sha256:" in default.group(1))
        assert "@sha256:" in (PROJECT_ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")

    def test_dependency_layer_is_built_from_the_lock_before_the_sources(self):
        """requirements.lock is copied and the dependency wheels built before any source folder is copied."""
        lines = DOCKERFILE.read_text(encoding="utf-8").splitlines()
        first_source = next(i for i, line in enumerate(lines) if line.startswith("COPY bridge"))
        lock = next(i for i, line in enumerate(lines) if line.startswith("COPY ") and "requirements.lock" in line)
        deps = next(i for i, line in enumerate(lines) if "pip wheel" in line and "-c requirements.lock" in line)
        assert lock < deps < first_source

    def test_copied_project_files_exist(self):
        """Every file or folder the Dockerfile copies from the context exists in the source tree."""
        copied = [name for line in re.findall(r"^COPY (?!--from)(.+)$", DOCKERFILE.read_text(encoding="utf-8"), re.MULTILINE)
                  for name in line.split()[:-1]]
        assert copied and [] == [name for name in copied if not (PROJECT_ROOT / name).exists()]

    def test_dockerignore_keeps_secrets_and_state_out(self):
        """The build context excludes the venv, git metadata, private keys and store files."""
        ignored = (PROJECT_ROOT / ".dockerignore").read_text(encoding="utf-8").split()
        assert {".git", ".venv", "**/*.key", "**/*.sqlite3"} <= set(ignored)


class TestCompose:
    def test_rig_services(self):
        """The rig runs RabbitMQ, the Hub emulator, the NexSIS simulator and the bridge."""
        text = COMPOSE.read_text(encoding="utf-8")
        services = set(re.findall(r"^  ([a-z-]+):\n", text.split("\nvolumes:")[0], re.MULTILINE))
        assert {"rabbitmq", "hub-emulator", "nexsis-sim", "bridge"} <= services

    def test_rabbitmq_is_a_supported_series_with_healthcheck(self):
        """The rig's broker is a 4.x series (3.x is out of community support) and has a healthcheck."""
        text = COMPOSE.read_text(encoding="utf-8")
        image = re.search(r"image: rabbitmq:(\d+)\.(\d+)", text)
        assert image and int(image.group(1)) >= 4
        rabbit = text.split("\n  rabbitmq:\n", 1)[1].split("\n  hub-emulator:\n", 1)[0]
        assert "healthcheck:" in rabbit and "restart: unless-stopped" in rabbit

    def test_long_running_services_restart(self):
        """Every long-running service has a restart policy (the one-shot certs job has none)."""
        text = COMPOSE.read_text(encoding="utf-8").split("\nvolumes:")[0]
        blocks = re.split(r"^  (?=[a-z-]+:\n)", text, flags=re.MULTILINE)
        named = {block.split(":", 1)[0]: block for block in blocks[1:]}
        for service in ("rabbitmq", "hub-emulator", "nexsis-sim", "bridge"):
            assert "restart: unless-stopped" in named[service], service

    def test_broker_requires_client_certificates(self):
        """The rig's RabbitMQ demands a client certificate and logs clients in by CN (EXTERNAL)."""
        conf = compose_config_block("rabbitmq_conf")
        assert "fail_if_no_peer_cert = true" in conf and "ssl_cert_login_from = common_name" in conf

    def test_inline_config_is_valid(self):
        """The bridge config embedded in compose.yaml passes the config model."""
        config = BridgeConfig.model_validate(tomllib.loads(compose_config_block("bridge_toml")))
        assert "amqp" == config.hub.mode and "rabbitmq" == config.hub.host

    def test_simulator_options_exist(self):
        """The nexsis-sim command line in compose.yaml uses options the command really has."""
        from click.testing import CliRunner

        from bridge.cli.nexsis_sim_cmd import nexsis_sim

        line = re.search(r'command: \["nexsis-sim", (.*?)\]', COMPOSE.read_text(encoding="utf-8"), re.DOTALL)
        options = re.findall(r'"(--[a-z-]+)"', line.group(1))
        help_text = CliRunner().invoke(nexsis_sim, ["--help"]).output
        assert options and all(option in help_text for option in options)

    def test_ports_published_on_loopback_only(self):
        """Published ports are bound to 127.0.0.1 on the host."""
        published = re.findall(r'^\s+- "([^"]+:\d+:\d+)"', COMPOSE.read_text(encoding="utf-8"), re.MULTILINE)
        assert published and all(entry.startswith("127.0.0.1:") for entry in published)


@pytest.mark.integration
def test_image_builds(tmp_path):
    """`docker build` succeeds and the image runs `bridge config check` as a non-root user."""
    reason = docker_engine_missing_reason()
    if reason:
        pytest.skip(reason)
    base = os.environ.get("HUB_BRIDGE_PYTHON_IMAGE")
    if not base:
        pytest.skip("set HUB_BRIDGE_PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:... (the digest-pinned base image)")
    tag = "hub-bridge:test-build"
    build = subprocess.run(["docker", "build", "--build-arg", f"PYTHON_IMAGE={base}", "-t", tag, str(PROJECT_ROOT)],
                           capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    assert 0 == build.returncode, build.stderr[-4000:]
    try:
        run = subprocess.run(["docker", "run", "--rm", "--entrypoint", "sh", tag, "-c", "id -u && bridge config check"],
                             capture_output=True, text=True, timeout=120)
        assert 0 == run.returncode, run.stderr[-2000:]
        assert "0" != run.stdout.split()[0] and "configuration OK" in run.stdout
    finally:
        subprocess.run(["docker", "image", "rm", "-f", tag], capture_output=True, timeout=120)
