"""The package's architecture and code quality as tests: the layers contract (import-linter),
ruff and mypy, configured in pyproject.toml. `make lint` runs the same three tools."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(tool: str, *args: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    exe = BIN / tool
    if not exe.exists():
        pytest.fail(f"{tool} is not installed in this environment (pip install -r requirements.txt)")
    return subprocess.run([str(exe), *args], cwd=cwd, capture_output=True, text=True, env=env, check=False)


def lint_imports(package_parent: Path, config: Path) -> subprocess.CompletedProcess:
    import os
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    return run("lint-imports", "--no-cache", str(config), cwd=package_parent, env=env)


def test_layers_contract_holds() -> None:
    result = lint_imports(ROOT, ROOT / "pyproject.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


@pytest.mark.parametrize("module, forbidden_import, contract", [
    ("symbolic/eq14.py", "from spnlib.numeric import fastpath", "The symbolic side never imports"),
    ("numeric/fastpath.py", "from spnlib.experiment import training", "Subpackages are layers"),
    ("studies/dynamics.py", "from spnlib.experiment import protocols", "Subpackages are layers"),
    ("experiment/training.py", "import matplotlib.pyplot", "Only views, the report and the CLI draw"),
])
def test_layers_contract_catches_a_violation(tmp_path: Path, module: str, forbidden_import: str,
                                            contract: str) -> None:
    """The contract is not vacuous: one forbidden import in a copy of the package breaks it."""
    shutil.copytree(ROOT / "spnlib", tmp_path / "spnlib", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "spnlib" / module
    target.write_text(target.read_text() + f"\n{forbidden_import}  # injected by the test\n")
    result = lint_imports(tmp_path, tmp_path / "pyproject.toml")
    assert result.returncode != 0
    assert contract in result.stdout and "BROKEN" in result.stdout


def test_ruff_is_clean() -> None:
    result = run("ruff", "check", "spnlib", "tests", "benchmarks", "tools")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean() -> None:
    result = run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr
