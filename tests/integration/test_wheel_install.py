"""The built wheel works on its own: installed in a fresh venv outside the checkout, with no
``HUB_BRIDGE_*`` variables, ``bridge config check`` and ``bridge demo`` find the mapping tables,
profiles, code lists and legacy XSDs it ships as package data (``bridge/_data``).

Offline and bounded: the wheel is built with ``--no-build-isolation --no-deps`` from a copy of
the sources, and the fresh venv reaches the dependencies through a ``.pth`` line naming the
running venv's site-packages (a plain path line: that folder's own ``.pth`` files, among them
the checkout's editable-install hook, are not run), so nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "bridge", "mappings", "nomenclatures", "xsd")
TIMEOUT = 240


def _run(cmd: list[str], *, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False)


def _clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_BRIDGE", "PYTHON", "VIRTUAL_ENV"))}
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / ".local" / "share"), PIP_NO_INDEX="1",
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    return env


@pytest.fixture(scope="module")
def installed_wheel(tmp_path_factory) -> tuple[Path, Path, dict[str, str]]:
    """(bin dir of a fresh venv with the wheel installed, an empty working dir, a clean environment)."""
    if importlib_missing("wheel") or importlib_missing("setuptools"):
        pytest.skip("building the wheel offline needs the 'wheel' and 'setuptools' packages (test extra)")
    root = tmp_path_factory.mktemp("wheel")
    src, dist, work = root / "src", root / "dist", root / "work"
    work.mkdir()
    for name in SOURCES:
        source = PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(source, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            src.mkdir(exist_ok=True)
            shutil.copy2(source, src / name)
    env = _clean_env(root / "home")
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(dist), str(src)],
                 cwd=work, env=env)
    assert built.returncode == 0, built.stderr[-3000:]
    wheels = list(dist.glob("hub_bridge-*.whl"))
    assert len(wheels) == 1, wheels
    target = root / "venv"
    venv.EnvBuilder(with_pip=False).create(target)
    bin_dir = target / "bin"
    fresh_site = Path(_run([str(bin_dir / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                           cwd=work, env=env).stdout.strip())
    (fresh_site / "outer-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    installed = _run([sys.executable, "-m", "pip", "--python", str(bin_dir / "python"), "install", "--no-deps",
                      "--no-index", str(wheels[0])], cwd=work, env=env)
    assert installed.returncode == 0, installed.stderr[-3000:]
    return bin_dir, work, env


def importlib_missing(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is None


def test_the_wheel_carries_the_data_folders(installed_wheel):
    bin_dir, work, env = installed_wheel
    code = ("import bridge, json; from bridge.refdata.resources import project_dir; "
            "print(json.dumps([bridge.__file__] + [str(project_dir(n)) for n in ('mappings', 'nomenclatures', 'xsd')]))")
    probe = _run([str(bin_dir / "python"), "-c", code], cwd=work, env=env)
    assert probe.returncode == 0, probe.stderr
    module, *folders = json.loads(probe.stdout)
    assert not module.startswith(str(PROJECT_ROOT)), f"the checkout was imported, not the wheel: {module}"
    for folder in folders:
        assert "/_data/" in folder and Path(folder).is_dir(), folder
    assert (Path(folders[0]) / "profiles" / "lrm-alpha-text.toml").is_file()
    assert (Path(folders[2]) / "legacy" / "fiche-15-18.xsd").is_file()


def test_config_check_passes_from_any_directory(installed_wheel):
    bin_dir, work, env = installed_wheel
    checked = _run([str(bin_dir / "bridge"), "config", "check"], cwd=work, env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "configuration OK" in checked.stdout


def test_demo_runs_from_the_wheel(installed_wheel):
    bin_dir, work, env = installed_wheel
    demo = _run([str(bin_dir / "bridge"), "demo", "--messages", "5", "--json", "--timeout", "60"], cwd=work, env=env)
    assert demo.returncode == 0, demo.stdout + demo.stderr[-3000:]
    summary = json.loads(demo.stdout.strip().splitlines()[-1])
    assert summary["ok"] is True and summary["answered"] == 5
