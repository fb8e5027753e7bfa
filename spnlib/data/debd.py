"""Loader for the DEBD binary density-estimation benchmark sets.

``load_debd("nltcs", "train")`` returns an ``(N, D)`` ``uint8`` array of 0/1.
Files are read from a data directory laid out as ``<dir>/<name>/<name>.<split>.data``:
the directory named by the environment variable ``SPNLIB_DATA`` or, if unset,
a per-user cache (``$XDG_CACHE_HOME/spnlib/debd``, default ``~/.cache/spnlib/debd``).
A missing file is downloaded from the public DEBD repository when the network
allows. Every file's SHA-256 is checked against the checksums pinned here
before it is parsed; nothing unverified is ever used.

Defined in the book's chapter "Sum-product networks".
"""
from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from functools import lru_cache
from pathlib import Path

import numpy as np

from spnlib.data.counted import CountedData

__all__ = ["DATASETS", "SPLITS", "DatasetError", "data_dir", "dataset_path", "load_debd",
           "load_counted", "parse_binary_csv", "DEBD_URL"]

DEBD_URL = "https://raw.githubusercontent.com/arranger1044/DEBD/master/datasets/{name}/{name}.{split}.data"
SPLITS = ("train", "valid", "test")

# SHA-256 of every file, as published in arranger1044/DEBD (datasets/<name>/<name>.<split>.data).
_SHA256 = {
    "accidents/accidents.test.data": "df3f1b6c035bf3e306a7d7127320e479d2546ce14a5d6d3043e6be0925b8b414",
    "accidents/accidents.train.data": "a76648cf00772c275b4277b21d858e235e3c6d3c5ef30beeb4958189b6bed21c",
    "accidents/accidents.valid.data": "fd3a80a0f411f157cf3772a057d26980bb166cb89b10cafb818a53f1ec30d46d",
    "baudio/baudio.test.data": "1474f3206f1f35e099803a0f40b0cd209bdc8d787825095ef6cb23fd87ed0d05",
    "baudio/baudio.train.data": "b1ec73f4aa9d4ce48b465ded865cc3d22b3f68cf6258f9e15fbef8902138add1",
    "baudio/baudio.valid.data": "7164d8a4943f74953f0e982002d84693fdf483e17f69e7407dc939c5ce5622fe",
    "bnetflix/bnetflix.test.data": "af73990782fd2f146d96059855c4f3bbb6a7a7caefc417ff620a3ed1415a2395",
    "bnetflix/bnetflix.train.data": "73c87cf0635ec734cc0726a5c644b904ff33e81ea51f1049db0e77b787ebad7c",
    "bnetflix/bnetflix.valid.data": "7f0a3e597c6f305f707f9ecd2b2aa523c576cdb17fdc5d902fc832ebea5163de",
    "dna/dna.test.data": "fec3ae7b26804020a9c43c99828441c5e08bb76b23719368a74ad2b09af99100",
    "dna/dna.train.data": "bb8de0ca4b6ad9b610036b7a302962ebecd4b504354b14c02c7d0bee48d207d9",
    "dna/dna.valid.data": "4b0fc89cda5eaf5c75926e281afb6af99de194a546070d5b81b524ba251f4f3f",
    "jester/jester.test.data": "346044fb561cf18f284f7e9d5896178b03048991b6ebb6f7482885fccbc16082",
    "jester/jester.train.data": "dd93578c3359d5b234bb278bf0901c5215d83b910f7d51d7c91951a0a4c244cd",
    "jester/jester.valid.data": "91df833941e189265345898d3f63211560c2456df599f34beee8e95381ee7524",
    "mushrooms/mushrooms.test.data": "313c5f04b5d0a18bee2f2ffa264be265d09f5362aad6f714637acd9552f81aa0",
    "mushrooms/mushrooms.train.data": "465c712c066bbbee3ccceded24bbe42b4c379df67b524e28cce9bf3a8b83f27b",
    "mushrooms/mushrooms.valid.data": "5a067e6854df71623415e6adc8e913cbff766637a324788882ba800907aa5385",
    "nltcs/nltcs.test.data": "f9ffa6b74b27dc03bee3203d157ee31079e80b13be40d0c0093d635c25aed523",
    "nltcs/nltcs.train.data": "e547a7aedad1dd2f7177030881ab1b92c7e24ae5464c71a0f1f89daecaf52b30",
    "nltcs/nltcs.valid.data": "93bbbf5c6febdc9bc6e5b5bfab636f4dc0685ab2896d24b23dd267794c3bfcf6",
    "plants/plants.test.data": "95f53c033cd1d86467aec2610dc5bfe014534206c2da4919f73bcab246ab8755",
    "plants/plants.train.data": "1fb1219ff94068d12a563f9e81f8889a1885f41e867884cff608669300c6848f",
    "plants/plants.valid.data": "47834ed318b2d74f48e4b083226ef47fd446d41986012ceae19d230574821b34",
    "pumsb_star/pumsb_star.test.data": "b2da195314ac17f9d8d171743c5f98a28ea9583332a52d34aa228ff2e11aa8e7",
    "pumsb_star/pumsb_star.train.data": "27e610b5f9f507f94ebf8a227f8b96cc59d7eed51e06ee5d2fe8353afbc1524c",
    "pumsb_star/pumsb_star.valid.data": "6a491d1ea64eb0249dddd168fdddeef88aa21001a933eb7309603b6466187af8",}

DATASETS: dict[str, int] = {
    "nltcs": 16, "plants": 69, "baudio": 100, "jester": 100, "bnetflix": 100,
    "accidents": 111, "mushrooms": 112, "pumsb_star": 163, "dna": 180,
}
"""The available datasets and their number of variables."""


class DatasetError(RuntimeError):
    """A dataset file that is missing, corrupt or malformed; the message says what to do."""


def data_dir() -> Path:
    """The data directory: ``$SPNLIB_DATA`` or the per-user cache directory."""
    env = os.environ.get("SPNLIB_DATA")
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "spnlib" / "debd"


def _check_name(name: str, split: str) -> str:
    if name not in DATASETS:
        raise DatasetError(f"unknown dataset {name!r}; available: {', '.join(sorted(DATASETS))}")
    if split not in SPLITS:
        raise DatasetError(f"unknown split {split!r} for {name!r}; use one of {', '.join(SPLITS)}")
    return f"{name}/{name}.{split}.data"


def dataset_path(name: str, split: str, directory: str | os.PathLike | None = None) -> Path:
    """Where ``name``/``split`` is (or would be) stored in the data directory."""
    return Path(directory or data_dir()) / _check_name(name, split)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _download(name: str, split: str, target: Path, timeout: float) -> None:
    url = DEBD_URL.format(name=name, split=split)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".part")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
            out.write(response.read())
    except (urllib.error.URLError, OSError, TimeoutError) as err:
        tmp.unlink(missing_ok=True)
        raise DatasetError(
            f"{name}.{split}.data is not in {target.parent} and could not be downloaded from {url} "
            f"({err}). Copy the file there, or set SPNLIB_DATA to a directory that holds "
            f"{name}/{name}.{split}.data (e.g. a checkout of the DEBD repository's datasets/ folder)."
        ) from None
    tmp.replace(target)


def parse_binary_csv(content: bytes | str, source: str = "data") -> np.ndarray:
    """Parse comma-separated 0/1 rows into an ``(N, D)`` ``uint8`` array.

    Raises
    ------
    DatasetError
        On an empty file, a ragged row (wrong number of values) or a value
        other than 0 or 1, naming the line.
    """
    raw = content.encode() if isinstance(content, str) else content
    lines = [ln.strip() for ln in raw.splitlines()]
    lines = [ln for ln in lines if ln]
    if not lines:
        raise DatasetError(f"{source}: the file holds no rows")
    width = len(lines[0])
    if all(len(ln) == width for ln in lines) and width % 2 == 1:
        # fast path: every line is "d,d,...,d" with single characters
        chars = np.frombuffer(b"".join(lines), dtype=np.uint8).reshape(len(lines), width)
        digits, commas = chars[:, 0::2], chars[:, 1::2]
        if np.all(commas == ord(",")) and np.all((digits == ord("0")) | (digits == ord("1"))):
            return (digits - ord("0")).astype(np.uint8)
    # slow path: find the first offending line and say what is wrong with it
    n_values = len(lines[0].split(b","))
    for i, ln in enumerate(lines, start=1):
        fields = [f.strip() for f in ln.split(b",")]
        if len(fields) != n_values:
            raise DatasetError(f"{source}, line {i}: ragged row with {len(fields)} values, expected {n_values}")
        bad = [f for f in fields if f not in (b"0", b"1")]
        if bad:
            raise DatasetError(f"{source}, line {i}: value {bad[0].decode(errors='replace')!r} "
                               "is not 0 or 1 (the data must be binary)")
    return np.array([[int(f) for f in ln.split(b",")] for ln in lines], dtype=np.uint8)


def load_debd(name: str, split: str = "train", directory: str | os.PathLike | None = None,
              download: bool = True, timeout: float = 30.0) -> np.ndarray:
    """Load a DEBD dataset split as an ``(N, D)`` ``uint8`` array of 0/1.

    Parameters
    ----------
    name : str
        One of :data:`DATASETS` (e.g. ``"nltcs"``).
    split : {"train", "valid", "test"}
    directory : path, optional
        Data directory; default :func:`data_dir`.
    download : bool
        Fetch a missing file from the public DEBD repository.

    Raises
    ------
    DatasetError
        Unknown name or split; file missing (and not downloadable); SHA-256
        mismatch; malformed content. The message names the file and the fix.
    """
    relative = _check_name(name, split)
    path = Path(directory or data_dir()) / relative
    if not path.exists():
        if not download:
            raise DatasetError(
                f"{path} does not exist. Set SPNLIB_DATA to a directory holding {relative}, "
                "or call load_debd(..., download=True) on a machine with network access.")
        _download(name, split, path, timeout)
    digest = _sha256(path)
    if digest != _SHA256[relative]:
        raise DatasetError(
            f"checksum mismatch for {path}: SHA-256 is {digest}, expected {_SHA256[relative]}. "
            "The file is corrupt or not the DEBD file; delete it and download it again.")
    X = parse_binary_csv(path.read_bytes(), source=str(path))
    if X.shape[1] != DATASETS[name]:
        raise DatasetError(f"{path}: {X.shape[1]} variables, expected {DATASETS[name]} for {name}")
    return X


@lru_cache(maxsize=16)
def load_counted(name: str, split: str = "train") -> CountedData:
    """:func:`load_debd` as :class:`~spnlib.data.counted.CountedData` (distinct rows with counts), cached.

    The form every evaluator and training loop takes; loaded and checked once per
    (name, split) in a session. Reads the default data directory (:func:`data_dir`).
    """
    return CountedData.from_array(load_debd(name, split))
