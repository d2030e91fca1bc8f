"""environment.yml (conda) and pyproject.toml (pip) must name the same dependencies."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
NOT_PACKAGES = {"python", "pip"}  # the interpreter and the installer, not dependencies


def normalize(requirement: str) -> str:
    """Project name of a requirement string, PEP 503-normalised, version specifier and extras dropped."""
    m = NAME.match(requirement)
    assert m, f"cannot read a package name from {requirement!r}"
    return re.sub(r"[-_.]+", "-", m.group(1)).lower()


def pyproject_dependencies() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"]) + list(project["optional-dependencies"]["dev"])
    return {normalize(r) for r in reqs}


def environment_entries() -> tuple[list[str], list[str]]:
    """Conda and pip entries of environment.yml's ``dependencies`` (a small YAML subset, no PyYAML needed)."""
    conda, pip = [], []
    in_deps = in_pip = False
    deps_indent = pip_indent = -1
    for raw in (ROOT / "environment.yml").read_text().splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if not in_deps:
            in_deps = line.strip() == "dependencies:" and indent == 0
            continue
        if indent == 0:  # next top-level key
            break
        item = line.strip()
        assert item.startswith("- "), f"unexpected line in dependencies: {raw!r}"
        value = item[2:].strip()
        if deps_indent < 0:
            deps_indent = indent
        if in_pip and indent > pip_indent:
            pip.append(value)
            continue
        in_pip = False
        if value == "pip:":
            in_pip, pip_indent = True, indent
        else:
            conda.append(value)
    return conda, pip


def environment_dependencies() -> set[str]:
    conda, pip = environment_entries()
    names = {normalize(c) for c in conda}
    names |= {normalize(p) for p in pip if not p.startswith("-e")}
    return names - NOT_PACKAGES


def test_environment_and_pyproject_name_the_same_dependencies():
    env, py = environment_dependencies(), pyproject_dependencies()
    assert env == py, f"only in environment.yml: {sorted(env - py)}; only in pyproject.toml: {sorted(py - env)}"


def test_environment_installs_the_package_editable_with_a_python_pin():
    conda, pip = environment_entries()
    assert "pip" in conda
    assert any(normalize(c) == "python" for c in conda)
    assert "-e ." in pip
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert f"python{requires}" in [c.replace(" ", "") for c in conda]


def test_dev_extra_has_the_test_tools():
    dev = {normalize(r) for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"]}
    assert {"pytest", "nbval", "hypothesis", "jupyterlab"} <= dev


@pytest.mark.parametrize(
    "req, name",
    [("numpy>=1.26", "numpy"), ("Jupyter_Lab >=4", "jupyter-lab"), ("scikit-learn[all]==1.5", "scikit-learn"),
     ("statsmodels", "statsmodels"), ("zope.interface~=6.0", "zope-interface")],
)
def test_normalize(req, name):
    assert normalize(req) == name


def test_parser_agrees_with_pyyaml():
    yaml = pytest.importorskip("yaml")
    doc = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [d for d in doc["dependencies"] if isinstance(d, str)]
    pip = [p for d in doc["dependencies"] if isinstance(d, dict) for p in d.get("pip", [])]
    assert environment_entries() == (conda, pip)
