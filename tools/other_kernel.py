"""Run a command as if on another CPU: a different OpenBLAS kernel and NumPy's baseline SIMD loops.

Usage: python tools/other_kernel.py COMMAND [ARGS ...]

The book's chaotic runs (symmetry broken at round-off level) round differently on another
machine. `make test` re-runs the notebooks under this script so that every compared output is
shown to be the same on two different floating-point setups:

* OpenBLAS is forced to another kernel with OPENBLAS_CORETYPE (Sandybridge, or Haswell where
  the machine's own kernel is Sandybridge), and the script checks with threadpoolctl, in a fresh
  interpreter, that the kernel really changed;
* NumPy's dispatched SIMD loops (AVX2/FMA, AVX-512) are switched off with
  NPY_DISABLE_CPU_FEATURES where the CPU has them, so its own reductions and exp/log run the
  baseline code.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

PROBE = """
import json, numpy as np
from threadpoolctl import threadpool_info
from numpy._core._multiarray_umath import __cpu_features__ as features
blas = [i.get("architecture") for i in threadpool_info() if i.get("internal_api") == "openblas"]
print(json.dumps({"blas": blas, "features": {k: bool(v) for k, v in features.items()}}))
"""
CANDIDATES = ("Sandybridge", "Haswell")
SIMD_GROUPS = ("AVX512_SPR", "AVX512_ICL", "X86_V4", "X86_V3")


def probe(env: dict[str, str]) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def other_environment() -> tuple[dict[str, str], str]:
    """The environment of the other setup, and a one-line description of it."""
    clean = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "NPY_DISABLE_CPU_FEATURES")}
    native = probe(clean)
    if not native["blas"]:
        sys.exit("other_kernel.py: NumPy does not use OpenBLAS here; cannot force another BLAS kernel")
    own = native["blas"][0]
    kernel = next(k for k in CANDIDATES if k.lower() != str(own).lower())
    disabled = [g for g in SIMD_GROUPS if native["features"].get(g)]
    env = {**clean, "OPENBLAS_CORETYPE": kernel}
    if disabled:
        env["NPY_DISABLE_CPU_FEATURES"] = " ".join(disabled)
    forced = probe(env)
    if str(forced["blas"][0]).lower() != kernel.lower():
        sys.exit(f"other_kernel.py: asked OpenBLAS for {kernel}, it reports {forced['blas'][0]}")
    still_on = [g for g in disabled if forced["features"].get(g)]
    if still_on:
        sys.exit(f"other_kernel.py: NumPy still dispatches {still_on}")
    simd = f", NumPy SIMD groups off: {' '.join(disabled)}" if disabled else ""
    return env, f"OpenBLAS kernel {forced['blas'][0]} (this machine's own: {own}){simd}"


def main(argv: list[str]) -> int:
    if not argv:
        sys.exit(__doc__)
    env, description = other_environment()
    print(f"other_kernel.py: running under {description}", flush=True)
    return subprocess.call(argv, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
