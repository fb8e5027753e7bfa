"""The experiment's protocols: the released code's (faithful), its variants, and the updated script's.

A :class:`Protocol` fixes everything a run of Sec. 3.1 needs except the data and
the depths: structure, initialisation, update rule, learning rate, number of
iterations and runs. :data:`PROTOCOLS` holds the ones the book uses:

* ``"released"`` - **the faithful protocol**, the released script exactly:
  released structures, leaf weights 1/2, layer weights 1e-4, w <- max(w + 0.01 g, 1e-4),
  500 iterations, 2 runs, element-wise maximum over runs. It has no randomness.
* ``"perturbed"`` - variant: the same, with every leaf weight multiplied by
  1 + s z, z ~ N(0, 1), s = 1e-3 (a random initialisation near the released one).
* ``"ulp"`` - variant: the released initialisation with a random half of the leaf weights
  moved up by one unit in the last place (1/2 -> 1/2 + 2^-53): the smallest possible asymmetry.
* ``"roundoff"`` - variant: the released initialisation, with every gradient entry
  multiplied by 1 + u xi, xi ~ U(-1, 1), u = 2^-53 (round-off that differs between components).
* ``"released-order"`` - variant: the released protocol with the released code's summation order:
  in the gradient of every leaf weight, the sum over the other 15 variables' log-values is
  accumulated in a per-component order, fixed for the run and drawn from its seed, as the Julia
  script's Dict-ordered ids do (:mod:`spnlib.experiment.released_order`). 2 runs, element-wise
  maximum, as in the script; the book's statistics use many runs.
* ``"random-structure"`` - variant: "perturbed" on random trees with L sum layers.
* ``"updated"`` - the authors' later script: log-space parameters, truncated-normal
  initialisation (scale 0.1), eta = 0.1, 1,000 iterations, 5 runs, test LLH recorded.

Run r of a protocol uses the seed ``seed + r`` for every depth, so runs are paired across depths.

Defined in the book's chapter "The depth-versus-speed experiment".
"""
from __future__ import annotations

import csv
import importlib.resources
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import cast

import numpy as np

from spnlib.checks import check_eta
from spnlib.data.counted import CountedData
from spnlib.experiment.released_order import ORDERS, ReleasedOrder, component_orders
from spnlib.experiment.training import Observer, Optimiser, TrainingResult, train
from spnlib.numeric.batched import BatchParams, MixtureBatch
from spnlib.structure.decomposition import Decomposition, released

__all__ = ["Protocol", "PROTOCOLS", "get_protocol", "random_layered", "structure", "initial_params",
           "Curves", "run_protocol", "paper_fig3", "TABLE_ITERATIONS", "fig3_comparison"]


@dataclass(frozen=True)
class Protocol:
    """Everything a run needs except the data and the depths.

    Attributes
    ----------
    name, label : str
        Short name (CLI, CSV) and the description the book shows.
    faithful : bool
        True only for the released code's protocol.
    rule : str
        Update rule (:data:`spnlib.experiment.training.RULES`).
    eta : float
    iterations, runs : int
    aggregate : str
        How the released script summarised runs (``"max"``) or ``"mean"``.
    init : str
        ``"released"`` (leaf 1/2, layers 1e-4) or ``"truncated-normal"``.
    perturbation : float
        Relative random perturbation s of the leaf weights at initialisation.
    ulp_share : float
        Share of the leaf weights moved up by one unit in the last place at initialisation.
    layer_perturbation : float
        Relative random perturbation of the layer weights at initialisation, upwards (1 + s |z|), so
        that they stay on or above the floor.
    layer_ulp_share : float
        Share of the layer weights moved up by one unit in the last place at initialisation.
    sibling_order : str
        Summation order of the leaf-weight gradients (:data:`~spnlib.experiment.released_order.ORDERS`):
        ``"child"`` (the fast path), ``"identity"`` (the explicit path in child order, a check) or
        ``"hash"`` (the released code's per-component order).
    floor, leaf_floor : float, float or None
        Floor of the projected update, and of the leaf weights if different (ablations).
    log_storage : bool
        Keep every weight as exp(log(w)) between updates, as the Julia script stores log weights.
    gradient_noise : float
        Relative per-entry noise u on every gradient (round-off model).
    random_structure : bool
        Random trees with L sum layers instead of the released structures.
    n_components, init_scale : int, float
        K, and the scale of the truncated-normal initialisation.
    threads : int
        BLAS threads for the matrix products (:mod:`spnlib.numeric.blas`); 1 keeps identical
        components bit-identical.
    """

    name: str
    label: str
    faithful: bool = False
    rule: str = "projected"
    eta: float = 0.01
    iterations: int = 500
    runs: int = 2
    aggregate: str = "max"
    init: str = "released"
    perturbation: float = 0.0
    ulp_share: float = 0.0
    layer_perturbation: float = 0.0
    layer_ulp_share: float = 0.0
    sibling_order: str = "child"
    floor: float = 1e-4
    leaf_floor: float | None = None
    log_storage: bool = False
    gradient_noise: float = 0.0
    random_structure: bool = False
    n_components: int = 8
    init_scale: float = 0.1
    threads: int = 1

    def __post_init__(self) -> None:
        if self.sibling_order not in ORDERS:
            raise ValueError(f"unknown summation order {self.sibling_order!r}; choose one of {', '.join(ORDERS)}")

    def optimiser(self) -> Optimiser:
        """The update rule with this protocol's learning rate and floors."""
        return Optimiser(self.rule, self.eta, floor=self.floor, leaf_floor=self.leaf_floor,
                         log_storage=self.log_storage)

    def with_changes(self, **changes) -> Protocol:
        """A copy with some settings changed (a changed copy of the faithful protocol is a variant)."""
        if "eta" in changes:
            changes["eta"] = check_eta(changes["eta"])
        out = replace(self, **changes)
        if self.faithful and any(getattr(out, k) != getattr(self, k) for k in changes):
            out = replace(out, faithful=False, name=f"{self.name}-variant",
                          label=f"variant of the released protocol ({_describe(changes)})")
        return out


def _describe(changes: dict) -> str:
    return ", ".join(f"{k} = {v}" for k, v in changes.items())


PROTOCOLS: dict[str, Protocol] = {p.name: p for p in (
    Protocol("released", "faithful: the released code's protocol", faithful=True),
    Protocol("perturbed", "variant: released protocol, leaf weights randomly perturbed (s = 1e-3)",
             perturbation=1e-3, runs=20, aggregate="mean"),
    Protocol("ulp", "variant: released protocol, half of the leaf weights one ulp above 1/2",
             ulp_share=0.5, runs=20, aggregate="mean"),
    Protocol("roundoff", "variant: released protocol with round-off-sized gradient noise (u = 2^-53)",
             gradient_noise=2.0 ** -53, runs=20, aggregate="mean"),
    Protocol("released-order", "variant: released protocol, leaf gradients summed in each component's own order "
             "(the released code's Dict order)", sibling_order="hash"),
    Protocol("random-structure", "variant: random trees with L sum layers, perturbed leaves (s = 1e-3)",
             perturbation=1e-3, random_structure=True, runs=20, aggregate="mean"),
    Protocol("updated", "the authors' updated script: log-space weights, truncated-normal init",
             rule="log", eta=0.1, iterations=1000, runs=5, aggregate="mean", init="truncated-normal"),
)}
"""The protocols the book and the command line know, by name."""


def get_protocol(name: str) -> Protocol:
    """The protocol called ``name``; ValueError naming the known ones otherwise."""
    try:
        return PROTOCOLS[name]
    except KeyError:
        raise ValueError(f"unknown protocol {name!r}; choose one of {', '.join(PROTOCOLS)}") from None


def random_layered(n_layers: int, n_components: int, rng: np.random.Generator) -> Decomposition:
    """A random tree in which every component sits below exactly ``n_layers`` sum layers.

    Above the bottom layer each sum node splits its components into 2 or 3
    groups at random cut points (a single component continues as a chain of
    one-child sum nodes); the bottom sum nodes hold the remaining groups.
    """
    if n_layers < 1:
        raise ValueError(f"L < 1: need at least one sum layer, got {n_layers}")

    def grow(items: list[int], levels: int):
        if levels == 1:
            return tuple(items)
        if len(items) == 1:
            return (grow(items, levels - 1),)
        n_groups = int(rng.integers(2, min(3, len(items)) + 1))
        cuts = np.sort(rng.choice(np.arange(1, len(items)), size=n_groups - 1, replace=False))
        return tuple(grow(g.tolist(), levels - 1) for g in np.split(np.array(items), cuts))

    return Decomposition(grow(list(range(n_components)), n_layers))


def structure(protocol: Protocol, depth: int, seed: int) -> Decomposition:
    """The decomposition of one run: released(L), or a random tree with L layers."""
    if int(depth) != depth or depth < 1:
        raise ValueError(f"the depth L must be an integer >= 1, got {depth!r}")
    if protocol.random_structure:
        return random_layered(int(depth), protocol.n_components, np.random.default_rng([seed, 1]))
    return released(int(depth), protocol.n_components)


def initial_params(protocol: Protocol, batch: MixtureBatch, seeds: Sequence[int]) -> BatchParams:
    """Initial weights of every model of ``batch`` (model m uses ``seeds[m]``)."""
    p = batch.initial_params()
    for m, (seed, dec) in enumerate(zip(seeds, batch.decompositions)):
        rng = np.random.default_rng([seed, 0])
        layers = p.layers[batch.layer_offsets[m]:batch.layer_offsets[m + 1]]
        if protocol.init == "truncated-normal":   # the updated script's init
            s = protocol.init_scale
            p.leaf[m] = np.abs(rng.normal(0.0, s, p.leaf[m].shape))
            bottom = dec.layer_sizes[-1]
            layers[:-bottom] = np.exp(rng.normal(0.0, s, layers.size - bottom))
            layers[-bottom:] = np.abs(rng.normal(0.0, s, bottom))
        elif protocol.perturbation > 0:
            p.leaf[m] *= 1.0 + protocol.perturbation * rng.standard_normal(p.leaf[m].shape)
        if protocol.ulp_share > 0:
            up = rng.random(p.leaf[m].shape) < protocol.ulp_share
            p.leaf[m][up] = np.nextafter(p.leaf[m][up], np.inf)
        if protocol.layer_perturbation > 0 or protocol.layer_ulp_share > 0:
            layer_rng = np.random.default_rng([seed, 4])
            if protocol.layer_perturbation > 0:
                layers *= 1.0 + protocol.layer_perturbation * np.abs(layer_rng.standard_normal(layers.shape))
            if protocol.layer_ulp_share > 0:
                up = layer_rng.random(layers.shape) < protocol.layer_ulp_share
                layers[up] = np.nextafter(layers[up], np.inf)
    np.maximum(p.leaf, 1e-300, out=p.leaf)
    np.maximum(p.layers, 1e-300, out=p.layers)
    return p


@dataclass
class Curves:
    """Curves of one protocol on one dataset for several depths and runs.

    Attributes
    ----------
    train : ndarray, shape (n_depths, runs, T)
        Mean train LLH before each update.
    test : ndarray, shape (n_depths, runs, T) or None
    """

    protocol: Protocol
    dataset: str
    depths: tuple[int, ...]
    seeds: tuple[int, ...]
    train: np.ndarray
    test: np.ndarray | None = None

    def aggregate(self, which: str = "train") -> np.ndarray:
        """(n_depths, T): the protocol's summary over runs (the released script: element-wise max)."""
        # without test curves, aggregate("test") fails on None (AttributeError), as before
        c = cast(np.ndarray, self.train if which == "train" else self.test)
        return c.max(axis=1) if self.protocol.aggregate == "max" else c.mean(axis=1)

    def rows(self) -> list[dict]:
        """One dict per (depth, run, iteration), iterations counted from 1 as in the paper."""
        out = []
        T = self.train.shape[-1]
        for i, L in enumerate(self.depths):
            for r in range(len(self.seeds)):
                for t in range(T):
                    row = {"protocol": self.protocol.name, "dataset": self.dataset, "depth": L,
                           "run": r + 1, "iteration": t + 1, "train_llh": repr(float(self.train[i, r, t]))}
                    if self.test is not None:
                        row["test_llh"] = repr(float(self.test[i, r, t]))
                    out.append(row)
        return out


def run_protocol(protocol: Protocol, data: CountedData, depths: Sequence[int] = (1, 2, 3),
                 dataset: str = "nltcs", runs: int | None = None, seed: int = 0,
                 test: CountedData | None = None,
                 progress: Callable[[int], None] | None = None, observer: Observer | None = None) -> Curves:
    """Train every depth and run of ``protocol`` together; see :class:`Curves`.

    Parameters
    ----------
    runs : int, optional
        Default: the protocol's number of runs.
    seed : int
        Run r uses seed ``seed + r`` (for all depths alike).
    test : CountedData, optional
        Held-out data, evaluated before every update too.
    observer : callable, optional
        Passed to :func:`~spnlib.experiment.training.train` (e.g. a
        :class:`~spnlib.experiment.mechanism.MechanismRecorder`); models are ordered depth-major.
    """
    depths = tuple(int(L) for L in depths)
    if not depths:
        raise ValueError("give at least one depth")
    runs = protocol.runs if runs is None else int(runs)
    if runs < 1:
        raise ValueError(f"need at least one run, got {runs}")
    seeds = tuple(seed + r for r in range(runs))
    decs = [structure(protocol, L, s) for L in depths for s in seeds]
    batch = MixtureBatch(decs, data.n_variables)
    model_seeds = [s for _ in depths for s in seeds]
    params = initial_params(protocol, batch, model_seeds)
    hook = None
    if protocol.sibling_order != "child":
        orders = component_orders(model_seeds, batch.n_components, data.n_variables, protocol.sibling_order)
        hook = ReleasedOrder(batch, data, orders)
    result: TrainingResult = train(batch, data, params, protocol.optimiser(), protocol.iterations, test=test,
                                   progress=progress, gradient_noise=protocol.gradient_noise,
                                   noise_seed=seed, threads=protocol.threads, observer=observer,
                                   gradient_hook=hook)
    shape = (len(depths), runs, protocol.iterations)
    return Curves(protocol, dataset, depths, seeds, result.train_llh.reshape(shape),
                  None if result.test_llh is None else result.test_llh.reshape(shape))


def paper_fig3() -> np.ndarray:
    """The paper's Fig. 3 curves, digitised from its vector PDF: array (3, 500) for L = 1, 2, 3.

    Shipped as ``spnlib/resources/fig3_digitized.csv`` (provenance in the README beside it).
    """
    text = importlib.resources.files("spnlib").joinpath("resources/fig3_digitized.csv").read_text()
    rows = list(csv.DictReader(io.StringIO(text)))
    return np.array([[float(r[f"L{L}"]) for r in rows] for L in (1, 2, 3)])


TABLE_ITERATIONS = (1, 10, 25, 50, 100, 200, 300, 500)
"""Iterations (counted from 1, as in the paper) at which the book tabulates Fig. 3."""


def fig3_comparison(curves: Curves, iterations: Sequence[int] = TABLE_ITERATIONS) -> dict:
    """The faithful reproduction against the paper's digitised Fig. 3 at chosen iterations.

    Returns
    -------
    dict with ``iterations`` (list), ``reproduced`` and ``paper`` ((3, n) arrays for L = 1, 2, 3),
    ``difference`` (reproduced - paper) and ``max_abs_difference`` per depth.
    """
    if curves.depths[:3] != (1, 2, 3):
        raise ValueError(f"need the depths 1, 2, 3 first, got {curves.depths}")
    idx = np.array(iterations) - 1
    ours = curves.aggregate()[:3][:, idx]
    paper = paper_fig3()[:, idx]
    return {"iterations": list(iterations), "reproduced": ours, "paper": paper,
            "difference": ours - paper, "max_abs_difference": np.abs(ours - paper).max(axis=1)}
