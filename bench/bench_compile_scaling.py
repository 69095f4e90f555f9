"""Compile time of a network vs the number of synapses, recordings and trainables.

Run: `python bench/bench_compile_scaling.py [--cells N]` (pin it: `taskset -c 1`). Prints
one line per model: the Python compile (`dendrax.compile` of a fresh module, then of the
unchanged module: the cached `Simulator`) and the XLA compile of `jit(sim.run)`
(`lower(...).compile()`), in seconds. Issue 20: neither may grow with synapses,
recordings or trainables beyond an O(1) term.
"""

from __future__ import annotations

import argparse
import time

import jax

import dendrax as jx
from dendrax.channels import HH
from dendrax.synapses import IonotropicSynapse

jax.config.update("jax_enable_x64", True)


def build(n_cells, n_pre, n_rec, n_train, train_values):
    cell = jx.Cell(jx.Branch(jx.Compartment(), ncomp=4), parents=[-1, 0, 0, 1])
    net = jx.Network([cell] * n_cells)
    net.insert(HH())
    if n_pre:
        pre, post = net.cell(range(n_pre)), net.cell(range(n_pre, n_cells))
        jx.fully_connect(pre, post, IonotropicSynapse())
    net.cell(0).branch(0).comp(0).stimulate(jx.step_current(0.1, 0.5, 0.5, 0.025, 1.0), False)
    net.select(nodes=range(n_rec)).record(verbose=False)
    for k in range(n_train):  # separate make_trainable calls, one value each
        net.cell(k % n_cells).branch(0).make_trainable("HH_gNa", verbose=False)
    if train_values:  # one make_trainable call with one value per compartment
        net.select(nodes=range(train_values)).make_trainable("HH_gK", verbose=False)
    return net


def measure(n_cells, n_pre=0, n_rec=1, n_train=0, train_values=0):
    net = build(n_cells, n_pre, n_rec, n_train, train_values)
    start = time.perf_counter()
    sim = jx.compile(net)
    cold = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(100):
        jx.compile(net)
    warm = (time.perf_counter() - start) / 100
    params = net.get_parameters()
    start = time.perf_counter()
    jax.jit(lambda p: sim.run(p, t_max=1.0)).lower(params).compile()
    xla = time.perf_counter() - start
    n_syn = net.edges.shape[0]
    print(
        f"cells={n_cells} synapses={n_syn} recordings={n_rec} trainables={n_train}"
        f"+{train_values}values  compile_cold_s={cold:.4f} compile_cached_s={warm:.2e}"
        f" xla_compile_s={xla:.2f}",
        flush=True,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=500)
    n = parser.parse_args().cells
    jx.compile(build(4, 1, 1, 0, 0))  # warm up imports and registries
    measure(n)
    for n_pre in (2, 20, 200):  # ~1k, 10k, 100k synapses
        measure(n, n_pre=n_pre)
    for n_rec in (100, 4 * n):
        measure(n, n_rec=n_rec)
    for n_train in (10, 100):
        measure(n, n_train=n_train)
    measure(n, train_values=4 * n)


if __name__ == "__main__":
    main()
