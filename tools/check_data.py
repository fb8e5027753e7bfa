"""Before `make book` executes any notebook: is every DEBD file the book reads here (or downloadable)?

Usage: python tools/check_data.py            check (download what is missing, verify checksums)
       python tools/check_data.py --list     the files the book reads, and the first notebook to read each
       python tools/check_data.py --cache-key  a hash of the pinned checksums (the CI caches' key)

The book reads the DEBD files named in its notebooks' code (a quoted dataset name such as
"plants", with the splits quoted there) and NLTCS's training split (what spnlib reads when it is
given no data: the reproducibility report, the findings). Each is loaded once with spnlib's
loader, exactly as a notebook would: from $SPNLIB_DATA or the per-user cache, downloaded if
missing and the network allows, its SHA-256 checked. The first file that cannot be had stops the
build before any notebook runs, with the loader's message (which file, where it looked, what
to do) and the notebook that would have failed, instead of a traceback from inside a notebook.
"""
from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ("nltcs", "train")        # what spnlib reads when given no data
SPLITS = ("train", "valid", "test")
PINNED = re.compile(r'"([a-z_]+/[a-z_]+\.(?:train|valid|test)\.data)":\s*"([0-9a-f]{64})"')


def cache_key(debd_module: Path = ROOT / "spnlib" / "data" / "debd.py") -> str:
    """SHA-256 of the checksums pinned in spnlib/data/debd.py (read as text: no import needed)."""
    pinned = sorted(PINNED.findall(debd_module.read_text()))
    if not pinned:
        sys.exit(f"check_data.py: no pinned checksums found in {debd_module}")
    return hashlib.sha256(json.dumps(pinned).encode()).hexdigest()


def toc_notebooks(root: Path) -> list[Path]:
    """The book's notebooks in reading order (_toc.yml)."""
    import yaml

    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries: list[dict] | None) -> None:
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    walk(toc.get("parts"))
    walk(toc.get("chapters"))
    paths = [root / Path(f).with_suffix(".ipynb") for f in files]
    return [p for p in paths if p.exists()]


def needed(root: Path, datasets: dict[str, int]) -> dict[tuple[str, str], str]:
    """Every (dataset, split) the book reads, with the first notebook (reading order) that reads it."""
    first: dict[tuple[str, str], str] = {}
    names = "|".join(sorted(datasets))
    quoted_name = re.compile(rf"""["']({names})["']""")
    quoted_split = re.compile(r"""["'](train|valid|test)["']""")
    for notebook in toc_notebooks(root):
        cells = json.loads(notebook.read_text()).get("cells", [])
        code = "\n".join("".join(c.get("source", "")) for c in cells if c.get("cell_type") == "code")
        if "spnlib" not in code:
            continue
        wanted = {DEFAULT}
        splits = set(quoted_split.findall(code)) or {"train"}
        wanted |= {(name, split) for name in quoted_name.findall(code) for split in splits}
        for key in sorted(wanted):
            first.setdefault(key, str(notebook.relative_to(root)))
    return first


def check(root: Path = ROOT) -> int:
    """Load every file the book reads; 0 if all are here and verified, else 1 with the loader's message."""
    from spnlib.data.debd import DATASETS, DatasetError, data_dir, load_debd

    files = needed(root, DATASETS)
    for (name, split), notebook in files.items():
        try:
            load_debd(name, split)
        except DatasetError as err:
            print(f"make book: {notebook} (the first notebook to read it) needs the DEBD file "
                  f"{name}/{name}.{split}.data, and it cannot be had:\n  {err}\n"
                  "make book: stopped before executing any notebook.", file=sys.stderr)
            return 1
    listed = ", ".join(f"{n} ({s})" for n, s in files)
    print(f"make book: the DEBD files the book reads are in {data_dir()}, checksums verified: {listed}")
    return 0


def main(argv: list[str]) -> int:
    if argv == ["--cache-key"]:
        print(cache_key())
        return 0
    if argv == ["--list"]:
        from spnlib.data.debd import DATASETS
        for (name, split), notebook in needed(ROOT, DATASETS).items():
            print(f"{name}/{name}.{split}.data  first read by {notebook}")
        return 0
    if argv:
        print(__doc__, file=sys.stderr)
        return 2
    return check()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
