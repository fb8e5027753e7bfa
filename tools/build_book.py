"""Run `jupyter-book build` for `make book`, saying which notebook it is executing and how long each took.

Usage: python tools/build_book.py [BOOK_DIR] [jupyter-book build options ...]
       (default: . --all -W -n --keep-going)

jupyter-book prints its whole log as it goes (passed through here, unbuffered); this adds

* before each notebook: "make book: [3/7] executing book/derivation.ipynb (4 min 10 s so far)";
* after it: "make book: [3/7] book/derivation.ipynb executed in 2 min 5 s";
* at the end, the time of every notebook and the total;
* if a cell fails: the notebook, the cell's first lines and the error's last line instead of
  Sphinx's and jupyter-book's tracebacks.

The whole output goes to _build/book-build.log.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

ANSI = re.compile(r"\x1b\[[0-9;]*m")
READING = re.compile(r"reading sources\.\.\.\s*\[\s*\d+%\]\s*(\S+)")
EXECUTED = re.compile(r"(\S+\.ipynb): Executed notebook in ([\d.]+) seconds")
FAILED_NOTEBOOK = re.compile(r"ExecutionError: (\S+\.ipynb)")
ERROR_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Interrupt|Exit)): (.+)$")
CRASH = "Exception occurred:"
# ipykernel's notice for every kernel nbclient starts on localhost: noise for a reader (kept in the log)
NOISE = re.compile(r"\[IPKernelApp\] WARNING \| Kernel is running over TCP without encryption")


def duration(seconds: float) -> str:
    """'7 s', '2 min 5 s', '1 h 3 min'."""
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {s % 3600 // 60} min"


def notebooks_in_order(book: Path) -> list[str]:
    """Docnames (book/x) of the notebooks of the book, in reading order."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from check_data import toc_notebooks

    return [str(p.relative_to(book).with_suffix("")) for p in toc_notebooks(book)]


def relative(path: str, book: Path) -> str:
    """`path` relative to the book's folder when it is inside it."""
    try:
        return str(Path(path).resolve().relative_to(book))
    except ValueError:
        return path


def failure_summary(log: list[str], book: Path) -> list[str]:
    """From the lines after Sphinx's "Exception occurred:", the notebook, the cell and the error."""
    text = [ANSI.sub("", line).rstrip() for line in log]
    notebook = next((relative(m.group(1), book) for line in text if (m := FAILED_NOTEBOOK.search(line))), None)
    cell: list[str] = []
    if "------------------" in text:
        start = text.index("------------------") + 1
        cell = [line for line in text[start:start + 4] if line != "------------------"][:3]
    errors = [m.group(0) for line in text if (m := ERROR_LINE.match(line.strip()))]
    # the cell's own error comes before "The above exception was the direct cause ..."
    cause = [e for e in errors if not e.startswith(("myst_nb.", "nbclient.", "sphinx."))]
    error = cause[0] if cause else (errors[-1] if errors else "(no error line found)")
    if notebook is None:
        return ["make book: the build crashed:", f"  {error}"]
    lines = [f"make book: {notebook} stopped at a cell that failed:"]
    lines += [f"  | {line}" for line in cell]
    return lines + [f"  {error}"]


def main(argv: list[str]) -> int:
    args = argv or [".", "--all", "-W", "-n", "--keep-going"]
    book = Path(args[0] if args and not args[0].startswith("-") else ".").resolve()
    order = notebooks_in_order(book)
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [str(jupyter_book) if jupyter_book.exists() else "jupyter-book", "build", *args]
    log_path = book / "_build" / "book-build.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    times: dict[str, float] = {}
    held: list[str] = []           # after a crash: kept for the log, not shown
    with open(log_path, "w") as log, subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
            env={**os.environ, "PYTHONUNBUFFERED": "1"}) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            plain = ANSI.sub("", line)
            if held or CRASH in plain:
                held.append(line)
                continue
            if NOISE.search(plain):
                continue
            sys.stdout.write(line)
            if (m := READING.search(plain)) and m.group(1) in order:
                n = order.index(m.group(1)) + 1
                print(f"make book: [{n}/{len(order)}] executing {m.group(1)}.ipynb "
                      f"({duration(time.monotonic() - start)} so far)", flush=True)
            elif m := EXECUTED.search(plain):
                name = str(Path(relative(m.group(1), book)).with_suffix(""))
                times[name] = float(m.group(2))
                n = order.index(name) + 1 if name in order else 0
                print(f"make book: [{n}/{len(order)}] {name}.ipynb executed in {duration(times[name])}",
                      flush=True)
    total = time.monotonic() - start
    if held:
        print("\n".join(failure_summary(held, book)), file=sys.stderr)
        print(f"make book: the full log, with the traceback, is in {log_path}", file=sys.stderr)
    if times:
        print("make book: time per notebook: " +
              ", ".join(f"{name} {duration(s)}" for name, s in times.items()))
    print(f"make book: {'done' if proc.returncode == 0 else 'FAILED'} in {duration(total)}")
    return proc.returncode or (1 if held else 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
