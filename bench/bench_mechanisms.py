"""A compartment with 8 imported Hay 2011 channels, 1 s at dt 0.025: dendrax vs NEURON.

The `.mod` files are extracted at run time from the bluepyemodel wheel (see
`tests/mechanisms/hay_model.py` for where it is looked for), imported into dendrax with
`read_mod` and compiled for NEURON with `nrnivmodl`; both simulate the same compartment
(8 channels + leak, step current) in the same run. Times: dendrax = best of 3 warm runs of
the jitted `integrate` (float64, CPU), compile time reported separately; NEURON = best of 3
`finitialize` + `continuerun` in a subprocess (no Python in its time loop).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "mechanisms"))

import numpy as np  # noqa: E402
from hay_model import (  # noqa: E402
    compile_mechanisms,
    dendrax_compartment,
    find_mod_files,
    run_neuron,
)

import dendrax as jx  # noqa: E402

T_MAX, DT = 1000.0, 0.025


def _time_dendrax(comp):
    simulate = jax.jit(lambda params: jx.integrate(comp, params=params, t_max=T_MAX, delta_t=DT))
    start = time.perf_counter()
    v = simulate([]).block_until_ready()
    first = time.perf_counter() - start
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        v = simulate([]).block_until_ready()
        runs.append(time.perf_counter() - start)
    run = min(runs)
    return np.asarray(v)[0], max(first - run, 0.0), run


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        mod_files = find_mod_files(Path(tmp) / "mod")
        if mod_files is None:
            print(
                "SKIP: Hay .mod files not found (put the bluepyemodel wheel in "
                "$DENDRAX_TEST_WHEELS; pip download --no-deps bluepyemodel==1.0.50)"
            )
            return 0
        comp = dendrax_compartment(mod_files, T_MAX, DT)
        v_dx, compile_s, dx_s = _time_dendrax(comp)
        try:
            lib = compile_mechanisms(mod_files, Path(tmp) / "nrn" / "build")
            neuron = run_neuron(lib, T_MAX, DT, repeats=3)
        except Exception as err:  # noqa: BLE001 - report and go on
            print(f"NEURON unavailable: {err}")
            neuron = None
    print(
        f"8 Hay channels + leak, 1 compartment, {T_MAX:.0f} ms at dt {DT} ms "
        f"({int(T_MAX // DT + 1)} steps)"
    )
    print(f"{'simulator':<12}{'compile (s)':>12}{'run (s)':>12}")
    print(f"{'dendrax':<12}{compile_s:>12.3f}{dx_s:>12.4f}")
    if neuron is not None:
        v_nrn = np.asarray(neuron["v"])
        n = min(v_nrn.size, v_dx.size)
        print(f"{'NEURON':<12}{'-':>12}{neuron['seconds']:>12.4f}")
        print(f"dendrax / NEURON run time: {dx_s / neuron['seconds']:.2f}x")
        spikes = int(np.sum((v_nrn[1:] > 0) & (v_nrn[:-1] <= 0)))
        print(
            f"mean |dV| vs NEURON: {np.mean(np.abs(v_dx[:n] - v_nrn[:n])):.2e} mV "
            f"({spikes} spikes in NEURON)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
