"""Why the single-HH-compartment run is bound by XLA's float64 exponential (not in `make bench`).

The hh1 step is a chain: v -> rate exponentials -> gate decay exponentials -> v. On XLA's CPU
backend a float64 `exp` is a rational approximation (a division, then four multiplications
by powers of two), ~20 ns from argument to result, so two of them in a row are most of the
step. This script measures, on this machine:

1. the latency of one exponential in a dependent chain, and the throughput per element on
   arrays of 620 (the 155x4 cell) and 20,000 elements: XLA's `exp` against `table_exp`
   below, a table-driven exponential written in JAX operations (2**(j/256) from a table,
   a degree-4 polynomial; within 1 ulp, checked here against numpy);
2. bench_core's single compartment (hh1) and 155x4 cell with HH's rate exponentials and
   its three gate exponentials swapped for `table_exp`: run and first-call times, each
   model and variant in a fresh process.

Run: `.venv-bench/bin/python bench/exp_latency_study.py` (~10 s). Printed when written
(2026-11-24, 2-core AMD EPYC): a chained step 27 ns with XLA's exp, 19 ns with the table;
hh1 run 0.422 -> 0.319 ms (0.76 -> 0.57 of Jaxley's 0.56 ms), but its trace + compile
0.129 -> 0.217 s (each inlined copy is ~35 operations to trace, lower and compile; the
target is 1/2 of Jaxley's 0.255 s); the cell's run 71 -> 106 ms (XLA's fused loops over its
620-element arrays ran slower with the lookup in them). Hence dendrax keeps XLA's `exp`.
"""

from __future__ import annotations

import decimal
import io
import math
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

jax.config.update("jax_enable_x64", True)

_BITS = 8
_N = 1 << _BITS  # table size


def _table_constants():
    with decimal.localcontext() as context:
        context.prec = 50
        two = decimal.Decimal(2)
        table = np.array([float(two ** (decimal.Decimal(j) / _N)) for j in range(_N)])
        step = two.ln() / _N
        # ln2/256 split as high + low, high with 24 mantissa bits: k * high is exact
        high_bits = np.float64(step).view(np.int64) & ~np.int64((1 << 28) - 1)
        high = float(high_bits.view(np.float64))
        return table, float(_N / two.ln()), high, float(step - decimal.Decimal(high))


TABLE, INV_STEP, STEP_HIGH, STEP_LOW = _table_constants()
SHIFT = 6755399441055744.0  # 1.5 * 2**52
SHIFT_BITS = int(np.array(SHIFT).view(np.int64))
# Arguments with a normal result: k stays below 1024 * _N, whose exponent field is inf's.
LOWEST, HIGHEST = math.log(np.finfo(np.float64).tiny), (1024 * _N - 0.75) / INV_STEP
DIMENSIONS = lax.GatherDimensionNumbers(
    offset_dims=(), collapsed_slice_dims=(0,), start_index_map=(0,)
)


def table_exp(x):
    """exp(x) for float64 x: 2**(k/256) * exp(r), |r| <= ln2/512 (flushes below 2.2e-308)."""
    x = jnp.asarray(x, jnp.float64)
    clamped = jnp.clip(x, LOWEST, HIGHEST)
    k = lax.round(clamped * INV_STEP, lax.RoundingMethod.TO_NEAREST_EVEN)
    r = (clamped - k * STEP_HIGH) - k * STEP_LOW
    k_bits = lax.bitcast_convert_type(k + SHIFT, jnp.int64) - SHIFT_BITS
    index = lax.bitwise_and(k_bits, np.int64(_N - 1))
    fraction = lax.gather(TABLE, index[..., None], DIMENSIONS, (1,), mode="promise_in_bounds")
    exponent = lax.shift_left(lax.shift_right_arithmetic(k_bits, np.int64(_BITS)), np.int64(52))
    scale = lax.bitcast_convert_type(
        lax.bitcast_convert_type(fraction, jnp.int64) + exponent, jnp.float64
    )
    r2 = r * r
    value = scale + scale * (r + r2 * ((0.5 + r / 6.0) + r2 / 24.0))
    return jnp.where(x < LOWEST, 0.0, jnp.where(x > HIGHEST, jnp.inf, value))


def _best(f, *args, repeats=30):
    f(*args).block_until_ready()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f(*args).block_until_ready()
        times.append(time.perf_counter() - start)
    return min(times)


def chained_and_bulk(exp):
    def chain(x):  # every step waits on the previous exponential
        return lax.scan(lambda c, _: (exp(-c * 0.001 - 0.5),) * 2, x, None, length=4000)[1]

    def bulk(x):
        return lax.scan(lambda c, _: (exp(-c * 0.001 - 0.5), None), x, None, length=200)[0]

    latency = _best(jax.jit(chain), jnp.ones(1)) / 4000
    per_element = {
        n: _best(jax.jit(bulk), jnp.linspace(0.5, 1.5, n)) / 200 / n for n in (620, 20000)
    }
    return latency, per_element


def model_times(swap: bool, n_branches: int):
    """First-call overhead (trace + compile) and best run of bench_core's hh1 or cell
    (here recording every compartment's voltage)."""
    import dendrax as jx
    import dendrax.channels.hh as hh
    from dendrax.channels import HH

    saved = hh._shared_powers, hh.solve_gate_exponential
    if swap:

        def powers(v):
            u = v + 65.0
            return tuple(table_exp(jnp.minimum(-u / k, 20.0)) for k in (10.0, 18.0, 20.0, 80.0))

        def gate(x, dt, alpha, beta):
            total = alpha + beta
            decay = table_exp(jnp.minimum(-dt * total, 20.0))
            return x * decay + alpha / total * (1.0 - decay)

        hh._shared_powers, hh.solve_gate_exponential = powers, gate
    try:
        if n_branches == 1:
            module = target = jx.Compartment()
        else:
            parents = [-1] + [(i - 1) // 2 for i in range(1, n_branches)]
            module = jx.Cell(jx.Branch(jx.Compartment(), ncomp=4), parents=parents)
            target = module.branch(0).loc(0.0)
        module.insert(HH())
        module.record("v", verbose=False)
        target.stimulate(jx.step_current(10.0, 80.0, 0.1, 0.025, 100.0), verbose=False)
        simulate = jax.jit(lambda p: jx.integrate(module, params=p, t_max=100.0, delta_t=0.025))
        start = time.perf_counter()
        trace = simulate([]).block_until_ready()
        first = time.perf_counter() - start
        run = _best(simulate, [], repeats=30 if n_branches == 1 else 5)
        return first - run, run, np.asarray(trace)
    finally:
        hh._shared_powers, hh.solve_gate_exponential = saved


def main():
    jax.jit(lambda x: x + 1.0)(1.0).block_until_ready()
    if len(sys.argv) == 3:  # one model in this fresh process: "xla"|"table", branches
        first, run, trace = model_times(sys.argv[1] == "table", int(sys.argv[2]))
        np.save(sys.stdout.buffer, np.array([first, run, *trace.ravel()]))
        return
    arguments = np.linspace(-700.0, 700.0, 200001)
    exact = np.exp(arguments)
    ulp = np.abs(np.asarray(jax.jit(table_exp)(arguments)) - exact) / np.spacing(exact)
    print(f"table_exp: max {ulp.max():.1f} ulp from numpy's exp on [-700, 700]")
    for name, exp in (("XLA exp", jnp.exp), ("table_exp", table_exp)):
        latency, per_element = chained_and_bulk(exp)
        bulk = ", ".join(f"{n} elements {t * 1e9:.2f} ns/element" for n, t in per_element.items())
        print(f"{name:10s} chained step {latency * 1e9:5.1f} ns; {bulk}")
    for label, branches in (("hh1", 1), ("cell155x4", 155)):
        results = {}
        for exp in ("xla", "table"):  # each in a fresh process: no warm caches from the other
            out = subprocess.run(
                [sys.executable, __file__, exp, str(branches)], capture_output=True, check=True
            ).stdout
            results[exp] = np.load(io.BytesIO(out))
        deviation = np.abs(results["xla"][2:] - results["table"][2:]).max()
        for exp, values in results.items():
            print(
                f"{label:9s} with {exp:5s} exp: trace + compile {values[0]:.3f} s, "
                f"run {values[1] * 1e3:.3f} ms"
            )
        print(f"{label:9s} max |dV| between the two: {deviation:.1e} mV")


if __name__ == "__main__":
    main()
