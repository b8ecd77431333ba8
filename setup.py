"""Build hook: ship the root-level data folders inside the wheel as ``bridge/_data/<name>``.

The repository keeps ``mappings/``, ``nomenclatures/`` and ``xsd/`` at its root (a project
rule). A wheel must carry them, so ``build_py`` copies them under the package, where
``bridge.refdata.resources.project_dir`` finds them through ``importlib.resources``. An
editable install copies nothing: it reads them from the checkout. Everything else about the
build is declared in pyproject.toml.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

DATA_DIRS = ("mappings", "nomenclatures", "xsd")
HERE = Path(__file__).resolve().parent


class BuildPyWithData(build_py):
    """``build_py`` plus a copy of the data folders into ``bridge/_data`` (not in editable mode)."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for name in DATA_DIRS:
            source = HERE / name
            if source.is_dir():
                self.copy_tree(str(source), str(Path(self.build_lib) / "bridge" / "_data" / name))


setup(cmdclass={"build_py": BuildPyWithData})
