"""Command line: ``python -m spnlib reproduce ...`` re-runs the depth-versus-speed experiment.

Example (the faithful Fig. 3)::

    python -m spnlib reproduce --dataset nltcs --protocol released --depths 1 2 3 \\
        --eta 0.01 --iterations 500 --runs 2 --seed 0 --out results/

writes ``results/curves.csv`` (columns protocol, dataset, depth, run, iteration,
train_llh, and test_llh where the test split is evaluated: the updated protocol, or
``--test``) and the figure as ``results/figure.png`` and ``results/figure.svg``.
Depth is the paper's L, the number of consecutive sum layers. ``--eta``,
``--iterations`` and ``--runs`` default to the protocol's own settings. ``--protocol released-order``
runs the same with the released code's summation order (the operation that broke the symmetry of the
authors' run; a different order per component, drawn from the seed).

Defined in the book's chapter "The depth-versus-speed experiment".
"""
from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["CSV_COLUMNS", "build_parser", "main", "reproduce"]

CSV_COLUMNS = ("protocol", "dataset", "depth", "run", "iteration", "train_llh", "test_llh")
"""Columns of curves.csv (test_llh only when the test split is evaluated)."""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _eta(text: str) -> float:
    from spnlib.checks import check_eta
    try:
        return check_eta(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def build_parser() -> argparse.ArgumentParser:
    from spnlib.data.debd import DATASETS
    from spnlib.experiment.protocols import PROTOCOLS

    parser = argparse.ArgumentParser(prog="python -m spnlib",
                                     description="Re-run the paper's depth-versus-speed experiment (Sec. 3.1, Fig. 3).")
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("reproduce", help="train the L = 1, 2, ... networks and write curves.csv and the figure",
                         description="Train every depth and run of a protocol; write DIR/curves.csv, "
                                     "DIR/figure.png and DIR/figure.svg.")
    rep.add_argument("--dataset", default="nltcs", choices=sorted(DATASETS), help="DEBD dataset (default nltcs)")
    rep.add_argument("--protocol", default="released", choices=list(PROTOCOLS),
                     help="released = the faithful protocol; others are variants or the updated script")
    rep.add_argument("--depths", nargs="+", type=_positive_int, default=[1, 2, 3],
                     help="the paper's L values (consecutive sum layers), e.g. 1 2 3")
    rep.add_argument("--eta", type=_eta, default=None, help="learning rate > 0 (default: the protocol's)")
    rep.add_argument("--iterations", type=_positive_int, default=None, help="updates per run (default: the protocol's)")
    rep.add_argument("--runs", type=_positive_int, default=None, help="runs per depth (default: the protocol's)")
    rep.add_argument("--seed", type=int, default=0, help="seed of run 1 (run r uses seed + r - 1)")
    rep.add_argument("--test", action="store_true", help="also evaluate the test split (always on for 'updated')")
    rep.add_argument("--out", required=True, type=Path, help="output directory (created if missing)")
    rep.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def reproduce(args: argparse.Namespace) -> Path:
    """Run ``reproduce`` with parsed arguments; returns the path of curves.csv."""
    from tqdm.auto import tqdm

    from spnlib.data.debd import load_counted
    from spnlib.experiment.protocols import get_protocol, run_protocol
    from spnlib.views.experiment_plots import fig3_figure

    protocol = get_protocol(args.protocol)
    changes = {k: v for k, v in (("eta", args.eta), ("iterations", args.iterations)) if v is not None}
    if changes:
        protocol = protocol.with_changes(**changes)
    for L in args.depths:
        from spnlib.experiment.protocols import structure
        structure(protocol, L, args.seed)          # raises a clear error for an impossible depth
    out: Path = args.out
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} exists and is not a directory")
    data = load_counted(args.dataset, "train")
    with_test = args.test or protocol.name == "updated"
    test = load_counted(args.dataset, "test") if with_test else None
    with tqdm(total=protocol.iterations, desc=f"{protocol.name} on {args.dataset}", unit="it",
              disable=args.quiet) as bar:
        curves = run_protocol(protocol, data, args.depths, dataset=args.dataset, runs=args.runs,
                              seed=args.seed, test=test, progress=bar.update)
    out.mkdir(parents=True, exist_ok=True)
    columns = [c for c in CSV_COLUMNS if c != "test_llh" or test is not None]
    path = out / "curves.csv"
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(curves.rows())
    import matplotlib.pyplot as plt
    plt.close(fig3_figure(curves, str(out / "figure")))
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (2 for invalid arguments, 1 for other errors)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "reproduce":
        from spnlib.data.debd import DatasetError
        try:
            path = reproduce(args)
        except (ValueError, DatasetError) as err:
            parser.exit(2 if isinstance(err, ValueError) else 1, f"error: {err}\n")
        if not args.quiet:
            print(f"wrote {path} and {path.parent / 'figure.png'}, {path.parent / 'figure.svg'}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
