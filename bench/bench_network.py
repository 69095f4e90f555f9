"""Network benchmarks: construction, compile and run times (dendrax; Jaxley if installed).

Run: `python bench/bench_network.py [--scale] [--snn]`. Prints one line per measurement.
Each simulator runs in its own fresh process; figures are medians of 3 rounds (`_isolated`).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import jax
from _isolated import emit, results_from_children, warm_up_jax

jax.config.update("jax_enable_x64", True)


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def construction(jx, channels, synapses):
    """400 one-compartment cells, fully_connect 200 -> 200, insert HH, 200 per-edge sets."""

    def build():
        cell = jx.Cell(jx.Branch(jx.Compartment(), ncomp=1), parents=[-1])
        net = jx.Network([cell] * 400)
        jx.fully_connect(
            net.cell(range(200)), net.cell(range(200, 400)), synapses.IonotropicSynapse()
        )
        net.insert(channels.HH())
        for e in range(200):
            net.select(edges=e).set("IonotropicSynapse_gS", 0.001)
        return net

    _, seconds = _timed(build)
    return {"construction_40k_synapses_s": seconds}


def simulation(jx, channels, synapses, n_cells=100, n_pre=50, t_max=100.0):
    """HH cells of 4 branches x 4 comps, fully_connect n_pre -> rest, IonotropicSynapse."""

    def build():
        cell = jx.Cell(jx.Branch(jx.Compartment(), ncomp=4), parents=[-1, 0, 0, 1])
        net = jx.Network([cell] * n_cells)
        net.insert(channels.HH())
        jx.fully_connect(
            net.cell(range(n_pre)), net.cell(range(n_pre, n_cells)), synapses.IonotropicSynapse()
        )
        net.cell(0).branch(0).comp(0).stimulate(
            jx.step_current(1.0, 2.0, 0.5, 0.025, t_max), verbose=False
        )
        net.cell(range(n_cells)).branch(0).comp(0).record(verbose=False)
        return net

    net, build_s = _timed(build)
    # jit both libraries' integrate, as users do (Jaxley re-traces every call otherwise)
    simulate = jax.jit(lambda p: jx.integrate(net, params=p, t_max=t_max))
    _, first = _timed(lambda: simulate([]).block_until_ready())
    # fastest of 5 warm runs: the least disturbed by other load, for both libraries alike
    run = min(_timed(lambda: simulate([]).block_until_ready())[1] for _ in range(5))
    return {
        f"sim{n_cells}_build_s": build_s,
        f"sim{n_cells}_compile_s": first - run,
        f"sim{n_cells}_run_s": run,
    }


def growth(jx, channels, synapses, n_cells=2000, t_max=10.0):
    """Compile time and XLA temporary memory of 2,000 cells as synapses and recordings grow.

    Synapses: fully_connect from 5 or 50 presynaptic cells (~10,000 or ~100,000 edges);
    recordings: one compartment of 10 cells or of every cell.
    """
    out = {}
    for n_pre, n_rec in ((5, 10), (50, 10), (50, n_cells)):
        cell = jx.Cell(jx.Branch(jx.Compartment(), ncomp=4), parents=[-1, 0, 0, 1])
        net = jx.Network([cell] * n_cells)
        net.insert(channels.HH())
        jx.fully_connect(
            net.cell(range(n_pre)), net.cell(range(n_pre, n_cells)), synapses.IonotropicSynapse()
        )
        net.cell(range(n_rec)).branch(0).comp(0).record(verbose=False)
        simulate = jax.jit(lambda p, net=net: jx.integrate(net, params=p, t_max=t_max))
        start = time.perf_counter()
        compiled = simulate.lower([]).compile()
        seconds = time.perf_counter() - start
        memory = compiled.memory_analysis()
        label = f"growth_{net.edges.shape[0]}syn_{n_rec}rec"
        out[f"{label}_compile_s"] = seconds
        out[f"{label}_temp_MB"] = memory.temp_size_in_bytes / 1e6 if memory else float("nan")
    return out


def snn_step():
    """Time per training step of examples/snn_classification.py (batch 16)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
    import snn_classification as snn

    net = snn.build_network(0)
    currents, labels = snn.make_dataset(16, 0)
    _, value_and_grad = snn.make_functions(net)
    params = net.get_parameters()
    _, first = _timed(lambda: jax.block_until_ready(value_and_grad(params, currents, labels)))
    _, step = _timed(lambda: jax.block_until_ready(value_and_grad(params, currents, labels)))
    return {"snn_first_step_s": first, "snn_train_step_s": step}


def _run_one(name, scale, snn):
    warm_up_jax()
    if name == "dendrax":
        import dendrax
        from dendrax import channels, synapses

        result = construction(dendrax, channels, synapses)
        result.update(simulation(dendrax, channels, synapses))
        if scale:
            result.update(
                simulation(dendrax, channels, synapses, n_cells=2000, n_pre=50, t_max=10.0)
            )
            result.update(growth(dendrax, channels, synapses))
        if snn:
            result.update(snn_step())
        return result
    try:
        import jaxley
        import jaxley.channels
        import jaxley.synapses
    except ImportError:
        print("jaxley not installed: dendrax only")
        return None
    result = construction(jaxley, jaxley.channels, jaxley.synapses)
    result.update(simulation(jaxley, jaxley.channels, jaxley.synapses))
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", action="store_true", help="2,000 cells, 100,000 synapses")
    parser.add_argument("--snn", action="store_true", help="SNN example training step")
    parser.add_argument("--only", help="run one simulator in this process (used internally)")
    parser.add_argument("--repeats", type=int, default=3, help="fresh runs per simulator")
    args = parser.parse_args()
    if args.only:
        result = _run_one(args.only, args.scale, args.snn)
        if result is not None:
            emit(result)
        return
    extra = [flag for flag, on in (("--scale", args.scale), ("--snn", args.snn)) if on]
    results = results_from_children(
        Path(__file__), ("dendrax", "jaxley"), extra_args=extra, repeats=args.repeats
    )
    if "dendrax" not in results:
        raise SystemExit("the dendrax benchmark failed")
    print(f"(medians of {args.repeats} fresh processes per simulator, alternating)")
    for lib, values in results.items():
        for key, seconds in values.items():
            ratio = ""
            if lib != "dendrax" and seconds:
                ratio = f"   dendrax/{lib} {results['dendrax'][key] / seconds:.3f}"
            print(f"{lib:8s} {key:32s} {seconds:10.3f} s{ratio}")
    if args.snn:
        print(
            "The SNN step is dendrax only: its SpikeSynapse reads the presynaptic Fire_spikes "
            "state (Jaxley 1.0 API); Jaxley 0.14's synapses see only voltages."
        )


if __name__ == "__main__":
    main()
