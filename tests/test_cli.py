"""Command line (python -m spnlib reproduce): files, columns, figures and clear errors."""
from __future__ import annotations

import csv
import subprocess
import sys

import pytest

from spnlib.cli import main


def read_csv(path):
    with open(path) as fh:
        return list(csv.DictReader(fh))


def test_reproduce_writes_the_documented_columns_and_figures(tmp_path, nltcs_train):
    out = tmp_path / "run"
    assert main(["reproduce", "--dataset", "nltcs", "--protocol", "released", "--depths", "1", "2", "3",
                 "--eta", "0.01", "--iterations", "5", "--runs", "2", "--seed", "0", "--out", str(out),
                 "--quiet"]) == 0
    rows = read_csv(out / "curves.csv")
    assert list(rows[0]) == ["protocol", "dataset", "depth", "run", "iteration", "train_llh"]
    assert len(rows) == 3 * 2 * 5
    assert {r["depth"] for r in rows} == {"1", "2", "3"} and {r["run"] for r in rows} == {"1", "2"}
    assert float(rows[0]["train_llh"]) == pytest.approx(16 * -0.6931471805599453)
    assert (out / "figure.png").stat().st_size > 1000 and (out / "figure.svg").stat().st_size > 1000


def test_updated_protocol_adds_test_llh(tmp_path, nltcs_train):
    assert main(["reproduce", "--protocol", "updated", "--depths", "2", "--iterations", "3", "--runs", "1",
                 "--out", str(tmp_path), "--quiet"]) == 0
    rows = read_csv(tmp_path / "curves.csv")
    assert list(rows[0])[-1] == "test_llh" and len(rows) == 3 and rows[0]["protocol"] == "updated"


def test_released_order_is_offered_and_runs(tmp_path, nltcs_train):
    assert main(["reproduce", "--protocol", "released-order", "--depths", "1", "3", "--iterations", "3",
                 "--out", str(tmp_path), "--quiet"]) == 0
    rows = read_csv(tmp_path / "curves.csv")
    assert len(rows) == 2 * 2 * 3 and {r["protocol"] for r in rows} == {"released-order"}
    assert (tmp_path / "figure.png").stat().st_size > 1000


@pytest.mark.parametrize("args, message", [
    (["--eta", "0"], "learning rate eta must be finite and > 0"),
    (["--eta", "-0.5"], "learning rate eta must be finite and > 0"),
    (["--depths", "0"], "expected a positive integer"),
    (["--iterations", "many"], "expected a positive integer"),
    (["--dataset", "mnist"], "invalid choice: 'mnist'"),
    (["--protocol", "fast"], "invalid choice: 'fast'"),
])
def test_invalid_arguments_give_clear_errors(args, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["reproduce", "--out", str(tmp_path), *args])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_out_must_be_a_directory(tmp_path, capsys, nltcs_train):
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(SystemExit) as exc:
        main(["reproduce", "--iterations", "2", "--out", str(target), "--quiet"])
    assert exc.value.code == 2 and "is not a directory" in capsys.readouterr().err


def test_module_entry_point():
    done = subprocess.run([sys.executable, "-m", "spnlib", "reproduce", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "--protocol" in done.stdout and "consecutive sum layers" in done.stdout
