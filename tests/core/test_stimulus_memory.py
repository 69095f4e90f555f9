"""Stimuli and clamps are padded and cropped in numpy: new step counts do not grow memory.

Each eager jnp pad/slice of a new shape compiled a small program kept for good (~2.4 MB
per call of `integrate` with a new number of steps, issue 21).
"""

import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np

import dendrax as jx
from dendrax.channels import Leak
from dendrax.integrate import add_stimuli
from dendrax.utils.series import fit_length, join_rows

_LOOP = textwrap.dedent(
    """
    import os
    import jax
    import numpy as np
    jax.config.update("jax_enable_x64", True)
    import dendrax as jx
    from dendrax.channels import Leak

    def rss_mb():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    comp = jx.Compartment()
    comp.insert(Leak())
    comp.record("v", verbose=False)
    comp.stimulate(np.full(50, 0.01), verbose=False)
    comp.clamp("v", np.full(450, -70.0), verbose=False)
    jx.integrate(comp, t_max=0.1)  # warm-up: JAX's start-up is not growth
    start = rss_mb()
    for k in range(400):
        jx.integrate(comp, t_max=0.025 * (5 + k))  # 6 .. 405 steps: a new shape each call
    print("GROWTH_MB", rss_mb() - start)
    """
)


def test_400_new_step_counts_stay_within_100_mb():
    env = {"JAX_PLATFORMS": "cpu", "PATH": "/usr/bin:/bin"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    proc = subprocess.run(
        [sys.executable, "-c", _LOOP], capture_output=True, text=True, env=env, timeout=900
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    growth = float(proc.stdout.split("GROWTH_MB")[1])
    assert growth < 100.0, f"RSS grew by {growth:.0f} MB over 400 calls"


def test_concrete_series_stay_numpy_traced_ones_jnp():
    a, b = np.ones((1, 3)), np.arange(10.0).reshape(2, 5)
    joined = join_rows([a, b], 4)
    assert isinstance(joined, np.ndarray)
    np.testing.assert_array_equal(joined, [[1, 1, 1, 0], [0, 1, 2, 3], [5, 6, 7, 8]])
    assert isinstance(fit_length(jnp.ones((2, 3)), 5), np.ndarray)

    def traced(x):
        out = join_rows([x, a], 4)
        assert isinstance(out, jax.core.Tracer)
        return out

    np.testing.assert_array_equal(jax.jit(traced)(jnp.ones((1, 2))), [[1, 1, 0, 0], [1, 1, 1, 0]])


def test_clamps_are_cut_not_padded():
    np.testing.assert_array_equal(
        join_rows([np.ones((1, 6)), np.ones((1, 4))], 4, pad=False), np.ones((2, 4))
    )


def test_add_stimuli_pads_in_numpy():
    comp = jx.Compartment()
    comp.insert(Leak())
    stim = comp.data_stimulate(jnp.ones(3))
    stim = comp.data_stimulate(jnp.full(5, 2.0), stim)
    externals, inds = add_stimuli({}, {}, stim)
    assert isinstance(externals["i"], np.ndarray)
    np.testing.assert_array_equal(externals["i"], [[1, 1, 1, 0, 0], [2, 2, 2, 2, 2]])
    np.testing.assert_array_equal(inds["i"], [0, 0])
