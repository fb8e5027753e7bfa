"""The DEBD loader (spnlib.data.debd): checksums, downloads and every refusal."""
from __future__ import annotations

import hashlib
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from spnlib.data import debd as datasets
from spnlib.data.debd import DATASETS, DatasetError, data_dir, dataset_path, load_debd, parse_binary_csv


def test_nltcs_loads_and_matches_the_paper(nltcs_train):
    assert nltcs_train.shape == (16181, 16) and nltcs_train.dtype == np.uint8
    assert set(np.unique(nltcs_train)) == {0, 1}


@pytest.mark.parametrize("split, rows", [("valid", 2157), ("test", 3236)])
def test_other_splits(split, rows):
    assert load_debd("nltcs", split, download=False).shape == (rows, 16)


def test_every_pinned_dataset_is_in_the_data_directory():
    for name in DATASETS:
        for split in ("train", "valid", "test"):
            assert dataset_path(name, split).exists(), f"{name}.{split} missing from {data_dir()}"


def test_data_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SPNLIB_DATA", str(tmp_path))
    assert data_dir() == tmp_path
    monkeypatch.delenv("SPNLIB_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data_dir() == tmp_path / "cache" / "spnlib" / "debd"


@pytest.mark.parametrize("name, split, message", [
    ("mnist", "train", "unknown dataset 'mnist'"),
    ("nltcs", "training", "unknown split 'training'"),
])
def test_unknown_names(name, split, message):
    with pytest.raises(DatasetError, match=message):
        load_debd(name, split)


def test_missing_file_without_download_says_where_and_how(tmp_path):
    with pytest.raises(DatasetError) as err:
        load_debd("nltcs", "train", directory=tmp_path, download=False)
    text = str(err.value)
    assert str(tmp_path / "nltcs" / "nltcs.train.data") in text and "SPNLIB_DATA" in text


def test_missing_file_with_no_network_says_where_and_how(tmp_path, monkeypatch):
    def offline(url, timeout):
        raise urllib.error.URLError("network unreachable")
    monkeypatch.setattr(datasets.urllib.request, "urlopen", offline)
    with pytest.raises(DatasetError) as err:
        load_debd("nltcs", "test", directory=tmp_path)
    text = str(err.value)
    assert "nltcs.test.data" in text and str(tmp_path / "nltcs") in text and "raw.githubusercontent.com" in text
    assert not list(tmp_path.rglob("*.part")), "a failed download must not leave a partial file"


def test_download_is_verified_and_stored(tmp_path, monkeypatch):
    source = dataset_path("nltcs", "valid")

    class Response:
        def __init__(self, url, timeout):
            assert url.endswith("datasets/nltcs/nltcs.valid.data")
            self.body = source.read_bytes()

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def read(self):
            return self.body

    monkeypatch.setattr(datasets.urllib.request, "urlopen", Response)
    X = load_debd("nltcs", "valid", directory=tmp_path)
    assert X.shape == (2157, 16)
    assert (tmp_path / "nltcs" / "nltcs.valid.data").read_bytes() == source.read_bytes()


def test_checksum_mismatch_is_refused(tmp_path):
    target = tmp_path / "nltcs" / "nltcs.test.data"
    target.parent.mkdir()
    data = bytearray(dataset_path("nltcs", "test").read_bytes())
    data[0] = ord("1") if data[0] == ord("0") else ord("0")   # still binary, but not the published file
    target.write_bytes(bytes(data))
    with pytest.raises(DatasetError, match="checksum mismatch.*nltcs.test.data"):
        load_debd("nltcs", "test", directory=tmp_path, download=False)


def _install_with_pinned_checksum(tmp_path: Path, monkeypatch, content: bytes) -> None:
    target = tmp_path / "nltcs" / "nltcs.test.data"
    target.parent.mkdir(exist_ok=True)
    target.write_bytes(content)
    pinned = dict(datasets._SHA256)
    pinned["nltcs/nltcs.test.data"] = hashlib.sha256(content).hexdigest()
    monkeypatch.setattr(datasets, "_SHA256", pinned)


@pytest.mark.parametrize("content, message", [
    (b"0,1,0\n1,2,0\n", "line 2: value '2' is not 0 or 1"),
    (b"0,1,0\n1,0\n", "line 2: ragged row with 2 values, expected 3"),
    (b"0,1,0\n1,x,0\n", "line 2: value 'x'"),
    (b"\n\n", "no rows"),
])
def test_malformed_content_is_refused_even_with_a_matching_checksum(tmp_path, monkeypatch, content, message):
    _install_with_pinned_checksum(tmp_path, monkeypatch, content)
    with pytest.raises(DatasetError, match=message):
        load_debd("nltcs", "test", directory=tmp_path, download=False)


def test_wrong_number_of_variables_is_refused(tmp_path, monkeypatch):
    _install_with_pinned_checksum(tmp_path, monkeypatch, b"0,1,0\n1,1,0\n")
    with pytest.raises(DatasetError, match="3 variables, expected 16"):
        load_debd("nltcs", "test", directory=tmp_path, download=False)


def test_parser_agrees_with_a_plain_parse():
    text = dataset_path("dna", "valid").read_text()
    plain = np.array([[int(v) for v in line.split(",")] for line in text.split()], dtype=np.uint8)
    np.testing.assert_array_equal(parse_binary_csv(text), plain)
    assert parse_binary_csv("0, 1\r\n1 ,0\r\n").tolist() == [[0, 1], [1, 0]]


def test_every_dataset_has_the_documented_width():
    for name, n_vars in DATASETS.items():
        assert load_debd(name, "valid", download=False).shape[1] == n_vars
