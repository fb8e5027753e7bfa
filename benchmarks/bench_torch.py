"""Benchmark: the fast path against a straightforward PyTorch-autograd implementation.

Run: ``python benchmarks/bench_torch.py`` (needs ``pip install torch==2.13.0``; SPNLIB_DATA must
point at the DEBD files). torch is an optional benchmark dependency: spnlib never imports it.

The same model (K = 8 factorised components under the released L-layer decomposition) and the same
protocol (mean LLH with partition function, value before the update, w <- max(w + eta g, 1e-4) on
every weight), float64 on the CPU, one thread for both (BLAS and torch intra-op). Reported:

1. Per-iteration time (value + gradient + update of one model), medians of interleaved repetitions:
   PyTorch on all 16,181 rows (the straightforward way), PyTorch on the 2,671 distinct rows with
   counts (the same data trick as spnlib), the core fast path (FactorisedMixture) and the batched
   path (MixtureBatch; also per model when the six runs of Fig. 3 share one batch).
2. One-step agreement from the same (asymmetric) state: largest relative difference of the new
   weights and of the value.
3. Free-running curves over 500 iterations: the faithful protocol (identical components) and the
   variant 'perturbed' (symmetry broken): from which iteration and by how much they differ.
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from spnlib.data.counted import CountedData  # noqa: E402
from spnlib.data.debd import load_debd  # noqa: E402
from spnlib.experiment.protocols import get_protocol, initial_params  # noqa: E402
from spnlib.experiment.symmetry import drift  # noqa: E402
from spnlib.experiment.training import Optimiser, train  # noqa: E402
from spnlib.numeric.batched import MixtureBatch  # noqa: E402
from spnlib.numeric.fastpath import FactorisedMixture, MixtureParams  # noqa: E402
from spnlib.structure.decomposition import Decomposition, released  # noqa: E402

torch.set_num_threads(1)
torch.set_default_dtype(torch.float64)
ETA, FLOOR = 0.01, 1e-4


class TorchMixture:
    """The model and its objective written plainly in PyTorch; autograd gives the gradient."""

    def __init__(self, decomposition: Decomposition, X: np.ndarray, counts: np.ndarray | None = None):
        self.ones = torch.tensor(np.asarray(X, dtype=np.float64))                  # (N, D)
        c = np.ones(len(X)) if counts is None else np.asarray(counts, dtype=np.float64)
        self.weights = torch.tensor(c / c.sum())
        self.index = torch.tensor(decomposition.flat_index)                       # (K, L), padded
        self.sizes = list(decomposition.layer_sizes)

    def objective(self, leaf: torch.Tensor, layers: list[torch.Tensor]) -> torch.Tensor:
        t0, t1 = leaf[:, :, 0], leaf[:, :, 1]
        log_c = self.ones @ (torch.log(t1) - torch.log(t0)).T + torch.log(t0).sum(dim=1)     # (N, K)
        u = torch.cat([torch.cat(layers), torch.ones(1)])
        log_w = torch.log(u)[self.index].sum(dim=1)                                       # (K,)
        log_f = torch.logsumexp(log_c + log_w, dim=1)
        log_z = torch.logsumexp(torch.log(t0 + t1).sum(dim=1) + log_w, dim=0)
        return self.weights @ log_f - log_z

    def step(self, leaf: torch.Tensor, layers: list[torch.Tensor]) -> float:
        value = self.objective(leaf, layers)
        value.backward()
        with torch.no_grad():
            for p in [leaf, *layers]:
                p.add_(ETA * p.grad).clamp_(min=FLOOR)
                p.grad = None
        return float(value.detach())


def to_torch(params: MixtureParams) -> tuple[torch.Tensor, list[torch.Tensor]]:
    return (torch.tensor(params.leaf, requires_grad=True),
            [torch.tensor(w, requires_grad=True) for w in params.layers])


def numpy_step(model: FactorisedMixture, params: MixtureParams, data: CountedData) -> tuple[float, MixtureParams]:
    llh, g = model.llh_and_grad(params, data)
    return llh.mean, MixtureParams(np.maximum(params.leaf + ETA * g.leaf, FLOOR),
                                   tuple(np.maximum(w + ETA * gw, FLOOR) for w, gw in zip(params.layers, g.layers)))


def times(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def main(rounds: int = 30, per_round: int = 10) -> None:
    X = load_debd("nltcs", "train")
    data = CountedData.from_array(X)
    dec = released(3)
    model = FactorisedMixture(dec, 16)
    batch = MixtureBatch([dec], 16)
    fig3 = MixtureBatch([released(L) for L in (1, 2, 3) for _ in range(2)], 16)
    perturbed = get_protocol("perturbed")
    state = batch.unstack(initial_params(perturbed, batch, [0]))[0]

    # 1. per-iteration time, interleaved
    torch_all, torch_distinct = TorchMixture(dec, X), TorchMixture(dec, data.rows, data.counts)
    ta, td = to_torch(state), to_torch(state)
    holder = {"np": state, "b": batch.stack([state]), "f": fig3.initial_params()}
    opt = Optimiser("projected", ETA)

    def fast():
        holder["np"] = numpy_step(model, holder["np"], data)[1]

    def batched():
        holder["b"] = train(batch, data, holder["b"], opt, 1).params

    def batched_fig3():
        holder["f"] = train(fig3, data, holder["f"], opt, 1).params

    cases = {"torch, all 16,181 rows": lambda: torch_all.step(*ta),
             "torch, 2,671 distinct rows": lambda: torch_distinct.step(*td),
             "spnlib FactorisedMixture": fast, "spnlib MixtureBatch (1 model)": batched,
             "spnlib MixtureBatch, Fig. 3's 6 models": batched_fig3}
    for fn in cases.values():
        times(fn, 5)
    res = {k: [] for k in cases}
    for _ in range(rounds):
        for k, fn in cases.items():
            res[k] += times(fn, per_round)
    med = {k: float(np.median(v)) for k, v in res.items()}
    print("1. per iteration (value + gradient + update), one core, float64; median of "
          f"{rounds * per_round} interleaved repetitions:")
    for k, v in med.items():
        per = f" ({v / 6 * 1e3:.3f} ms per model)" if "6 models" in k else ""
        print(f"   {k:42s} {v * 1e3:8.3f} ms{per}")
    fast_ms = med["spnlib FactorisedMixture"]
    print(f"   ratio torch (all rows) / FactorisedMixture:      {med['torch, all 16,181 rows'] / fast_ms:6.1f}x")
    print(f"   ratio torch (distinct rows) / FactorisedMixture: {med['torch, 2,671 distinct rows'] / fast_ms:6.1f}x")
    one = med["spnlib MixtureBatch (1 model)"]
    print(f"   ratio torch (all rows) / MixtureBatch (1 model):  {med['torch, all 16,181 rows'] / one:6.1f}x")
    print(f"   ratio torch (distinct rows) / MixtureBatch (1 model): {med['torch, 2,671 distinct rows'] / one:6.1f}x")
    per_model = med["spnlib MixtureBatch, Fig. 3's 6 models"] / 6
    print(f"   ratio torch (all rows) / batched Fig. 3 per model: {med['torch, all 16,181 rows'] / per_model:6.1f}x")
    print(f"   ratio torch (distinct rows) / batched Fig. 3 per model: "
          f"{med['torch, 2,671 distinct rows'] / per_model:6.1f}x")

    # 2. one step from the same asymmetric state
    rng = np.random.default_rng(11)
    start = MixtureParams(rng.uniform(0.05, 1.0, (8, 16, 2)), tuple(rng.uniform(1e-4, 0.5, n) for n in dec.layer_sizes))
    value_np, after_np = numpy_step(model, start, data)
    leaf, layers = to_torch(start)
    value_t = TorchMixture(dec, X).step(leaf, layers)
    after_t = np.concatenate([leaf.detach().numpy().ravel()] + [w.detach().numpy() for w in layers])
    rel = np.max(np.abs(after_np.flatten() - after_t) / np.abs(after_np.flatten()))
    print(f"2. one step from the same state: max relative difference of the new weights {rel:.1e} "
          f"(<= 1e-12: {rel <= 1e-12}); of the value {abs(value_np - value_t) / abs(value_np):.1e}")

    # 3. free-running curves
    for name, proto in (("faithful protocol", get_protocol("released")), ("variant 'perturbed'", perturbed)):
        decs = [released(L) for L in (1, 2, 3)]
        b3 = MixtureBatch(decs, 16)
        p0 = initial_params(proto, b3, [0, 0, 0])
        ours = train(b3, data, p0, opt, 500).train_llh
        for m, (L, start) in enumerate(zip((1, 2, 3), b3.unstack(p0))):
            tm = TorchMixture(released(L), X)
            leaf, layers = to_torch(start)
            curve = np.array([tm.step(leaf, layers) for _ in range(500)])
            d = drift(ours[m], curve, tolerance=1e-6)
            d10 = drift(ours[m], curve, tolerance=1e-10)
            print(f"3. {name}, L = {L}: first |difference| > 1e-10 at iteration {d10.first_iteration}, "
                  f"> 1e-6 at {d.first_iteration}; largest {d.max_difference:.2e} nats")


if __name__ == "__main__":
    main()
