"""Which float64 simulation is closer to the exact one? An 80-bit reference for an HH cell.

dendrax and Jaxley differ by ~1e-8 mV on some spiking CA1 runs in float64 (docs/performance.md,
"An AVX2 machine ..."): both integrate the same discretized equations, and their float64
rounding differs. This script integrates that system once more in numpy's `longdouble`
(x87 extended precision on x86-64: a 64-bit mantissa, ~2,000 times finer than float64's)
and reports each float64 simulation's distance from it.

The reference is written here from the equations, not from dendrax's time step: HH rates by
their textbook formulas with `exp` in extended precision, exponential-Euler gates with the
voltage at the start of the step, the implicit (backward-Euler) voltage step with the HH
current linearized about that voltage, and a Hines elimination over the compartment tree
(branch points as extra unknowns, as both simulators do), each step's system solved for
the increment `v' - v` with the axial currents from voltage differences. The same
reference solved for `v'` itself is run too: in longdouble the two differ by its own
rounding (~1e-11 mV), in float64 by a spurious current (`dendrax.solvers.increment_solve`).
Its inputs are each simulator's own float64 compartment geometry (areas and resistive loads
from its SWC reader), capacitance, axial resistivity and channel parameters, read from its
module, converted exactly to `longdouble`; the cable coefficients are computed from them in
extended precision. Each simulator is compared with the reference built from its own inputs.

Workload: `bench_gradient.py`'s CA1 cell (4 compartments per branch, HH, a 0.2 nA step from
10 to 80 ms, 10 recordings, 100 ms at dt 0.025), with `HH_gNa` set to `--scales` times its
default in every compartment (7/6 is the `vmap` member of `bench_gpu.py` where dendrax and
Jaxley were 2.5e-8 mV apart). Also run: the reference's own algorithm in float64, in both
forms, as further float64 simulations.

Run: `DENDRAX_SWC_DIR=... .venv-bench/bin/python bench/extended_precision_reference.py
[--scales 1.0,1.1666666666666667] [--t-max 100]` (~1 min per scale; Jaxley optional).
"""

from __future__ import annotations

import argparse
import json

import jax

jax.config.update("jax_enable_x64", True)
import numpy as np  # noqa: E402
from bench_gradient import DT, NCOMP, SWC_DIR  # noqa: E402

NAMES = ("gNa", "gK", "gLeak", "eNa", "eK", "eLeak")


def build(lib, hh_cls, scale: float, t_max: float):
    """The workload cell in `lib` (dendrax or jaxley), `HH_gNa` times `scale` everywhere."""
    cell = lib.read_swc(str(SWC_DIR / "morph_ca1_n120.swc"), ncomp=NCOMP)
    cell.insert(hh_cls())
    cell.set("axial_resistivity", 100.0)
    cell.set("HH_gNa", 0.12 * scale)
    cell.branch(0).loc(0.0).stimulate(lib.step_current(10.0, 80.0, 0.2, DT, t_max), verbose=False)
    n_branches = cell.shape[0]
    for b in range(0, n_branches, n_branches // 10)[:10]:
        cell.branch(b).loc(0.5).record("v", verbose=False)
    return cell


# --------------------------------------------------------------------- the reference


def _vtrap(x, y):
    """x / (exp(x / y) - 1), its limit y (1 - x / (2 y)) where |x / y| < 1e-6."""
    r = x / y
    small = np.abs(r) < 1e-6
    safe = np.where(small, 1.0, r)
    return np.where(small, y * (1.0 - r / 2.0), y * safe / np.expm1(safe))


def _rates(v):
    """((alpha, beta) of m, h, n) in 1/ms, NEURON's `hh` at 6.3 °C."""
    return (
        (0.1 * _vtrap(-(v + 40.0), 10.0), 4.0 * np.exp(-(v + 65.0) / 18.0)),
        (0.07 * np.exp(-(v + 65.0) / 20.0), 1.0 / (np.exp(-(v + 35.0) / 10.0) + 1.0)),
        (0.01 * _vtrap(-(v + 55.0), 10.0), 0.125 * np.exp(-(v + 65.0) / 80.0)),
    )


def _gate(x, dt, alpha, beta):
    total = alpha + beta
    decay = np.exp(-dt * total)
    return x * decay + alpha / total * (1.0 - decay)


def _levels(parent: np.ndarray) -> list[np.ndarray]:
    """Nodes grouped by depth in their tree (roots first)."""
    depth = np.full(parent.size, -1)
    depth[parent < 0] = 0
    while (depth < 0).any():
        todo = (depth < 0) & (depth[np.maximum(parent, 0)] >= 0)
        depth[todo] = depth[parent[todo]] + 1
    return [np.flatnonzero(depth == d) for d in range(depth.max() + 1)]


def _tree_solve(parent, levels, diag, upper, lower, rhs):
    """Solve the Hines system (diag, upper = A[i, p], lower = A[p, i]) by elimination."""
    diag, rhs = diag.copy(), rhs.copy()
    for nodes in reversed(levels[1:]):  # leaves towards roots
        p = parent[nodes]
        factor = lower[nodes] / diag[nodes]
        np.subtract.at(diag, p, factor * upper[nodes])
        np.subtract.at(rhs, p, factor * rhs[nodes])
    x = np.empty_like(rhs)
    x[levels[0]] = rhs[levels[0]] / diag[levels[0]]
    for nodes in levels[1:]:
        x[nodes] = (rhs[nodes] - upper[nodes] * x[parent[nodes]]) / diag[nodes]
    return x


def reference(inputs: dict, dtype, n_steps: int, increment: bool = True) -> np.ndarray:
    """(n_rec, n_steps) recorded voltages (mV) of the system in `inputs`, in `dtype`.

    `increment`: solve each step's system for `v' - v`, with axial currents from voltage
    differences (branch points keep their last solution), else for `v'` itself. The two
    are the same step in exact arithmetic; in a finite precision the first rounds less.
    """
    c = {
        k: np.asarray(v, dtype) if np.asarray(v).dtype.kind == "f" else v for k, v in inputs.items()
    }
    parent, n, dt = c["parent"], c["n_comp"], dtype(DT)
    n_nodes = parent.size
    # Edge i-parent: resistance = Ra (load of the two adjacent half-compartments);
    # conductance into compartment rows scaled by 1e7 / (area cm), branch-point rows not.
    ra = c["axial_resistivity"]
    halves = np.concatenate([ra * c["load_in"], ra * c["load_out"], np.zeros(1, dtype)])
    half_a = np.where(c["half_a"] == n, 2 * n, c["half_a"] + n * c["half_a_is_out"])
    half_b = np.where(c["half_b"] == n, 2 * n, c["half_b"] + n * c["half_b_is_out"])
    has_parent = parent >= 0
    conductance = np.zeros(n_nodes, dtype)
    conductance[has_parent] = 1.0 / (halves[half_a] + halves[half_b])[has_parent]
    scale = np.concatenate([1e7 / (c["area"] * c["cm"]), np.ones(n_nodes - n, dtype)])
    p0 = np.where(has_parent, parent, 0)
    child_row, parent_row = conductance * scale, conductance * scale[p0]
    axial_diag = child_row.copy()
    np.add.at(axial_diag, p0[has_parent], parent_row[has_parent])
    row = np.where(np.arange(n_nodes) < n, dt, dtype(1.0))
    sys_diag, upper, lower = row * axial_diag, -row * has_parent * child_row, -row[p0] * parent_row
    levels = _levels(parent)
    v, (m, h, nn) = c["v0"].copy(), (c["m0"].copy(), c["h0"].copy(), c["n0"].copy())
    g, e = (
        {k: c[f"g{k}"] for k in ("Na", "K", "Leak")},
        {k: c[f"e{k}"] for k in ("Na", "K", "Leak")},
    )
    out = np.empty((c["rec_rows"].size, n_steps), dtype)
    out[:, 0] = v[c["rec_rows"]]
    zeros_bp = np.zeros(n_nodes - n, dtype)
    kids = np.flatnonzero(has_parent)
    nodes = np.concatenate([v, np.full(n_nodes - n, v.mean(), dtype)])  # branch points start
    for k in range(1, n_steps):
        (am, bm), (ah, bh), (an, bn) = _rates(v)
        m, h, nn = _gate(m, dt, am, bm), _gate(h, dt, ah, bh), _gate(nn, dt, an, bn)
        g_na, g_k = g["Na"] * m**3 * h, g["K"] * nn**4
        current = 1e3 * (g_na * (v - e["Na"]) + g_k * (v - e["K"]) + g["Leak"] * (v - e["Leak"]))
        slope = 1e3 * (g_na + g_k + g["Leak"])
        i_ext = np.zeros(n, dtype)
        i_ext[c["stim_row"]] = c["stim"][k - 1] * 1e5 / c["area"][c["stim_row"]]
        diag = np.concatenate([1.0 + dt * slope / c["cm"], zeros_bp]) + sys_diag
        if increment:
            nodes[:n] = v
            flux = np.zeros(n_nodes, dtype)
            np.add.at(flux, kids, -upper[kids] * (nodes[p0[kids]] - nodes[kids]))
            np.add.at(flux, p0[kids], -lower[kids] * (nodes[kids] - nodes[p0[kids]]))
            rhs = np.concatenate([dt * (i_ext - current) / c["cm"], zeros_bp]) + flux
            nodes = nodes + _tree_solve(parent, levels, diag, upper, lower, rhs)
            v = nodes[:n].copy()
        else:
            drive = (slope * v - current + i_ext) / c["cm"]
            rhs = np.concatenate([v + dt * drive, zeros_bp])
            v = _tree_solve(parent, levels, diag, upper, lower, rhs)[:n]
        out[:, k] = v[c["rec_rows"]]
    return out


# --------------------------------------------------------------------- the simulators


def dendrax_inputs(cell, t_max: float) -> tuple[dict, object]:
    """The reference's inputs from dendrax's compiled cell, and the compiled `Simulator`."""
    import dendrax

    sim = dendrax.compile(cell, delta_t=DT)
    states, params = sim.init()
    st = sim.structure
    (name, rows), *more = sim.spec.recordings
    if name != "v" or more:
        raise ValueError("the workload records voltages only")
    inputs = {
        "parent": np.asarray(st.tree_parent),
        "n_comp": st.n_comp,
        **{
            k: np.asarray(getattr(st, k))
            for k in ("half_a", "half_a_is_out", "half_b", "half_b_is_out")
        },
        "rec_rows": np.asarray(rows)[np.asarray(sim.spec.order)],
        "stim_row": int(np.asarray(dict(sim.spec.inputs)["i"])[0]),
        "stim": np.asarray(sim.inputs["i"])[0],
        "area": params["area"],
        "load_in": params["resistive_load_in"],
        "load_out": params["resistive_load_out"],
        "cm": params["capacitance"],
        "axial_resistivity": params["axial_resistivity"],
        "v0": states["v"],
        "m0": states["HH_m"],
        "h0": states["HH_h"],
        "n0": states["HH_n"],
        **{k: params[f"HH_{k}"] for k in NAMES},
    }
    n = st.n_comp
    for key in (
        "area",
        "load_in",
        "load_out",
        "cm",
        "axial_resistivity",
        "v0",
        "m0",
        "h0",
        "n0",
        *NAMES,
    ):
        inputs[key] = np.broadcast_to(np.asarray(inputs[key], np.float64), (n,)).copy()
    return inputs, sim


def jaxley_inputs(cell, ours: dict) -> dict:
    """`ours` with Jaxley's own float64 geometry and parameters (same compartment order)."""
    nodes = cell.nodes
    theirs = dict(ours)
    for key, column in (
        ("area", "area"),
        ("load_in", "resistive_load_in"),
        ("load_out", "resistive_load_out"),
        ("cm", "capacitance"),
        ("axial_resistivity", "axial_resistivity"),
        *((k, f"HH_{k}") for k in NAMES),
    ):
        theirs[key] = nodes[column].to_numpy(np.float64)
    return theirs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1.0,1.1666666666666667", help="HH_gNa factors")
    parser.add_argument("--t-max", type=float, default=100.0, help="ms")
    parser.add_argument("--save-json", help="write the table's figures to this file")
    args = parser.parse_args()
    import dendrax
    from dendrax.channels import HH

    try:
        import jaxley
        from jaxley.channels import HH as JaxleyHH
    except ImportError:
        jaxley = None
        print("jaxley is not installed: its rows are skipped")
    rows = []
    for scale in (float(x) for x in args.scales.split(",")):
        cell = build(dendrax, HH, scale, args.t_max)
        inputs, sim = dendrax_inputs(cell, args.t_max)
        ours = np.asarray(dendrax.integrate(cell, t_max=args.t_max, delta_t=DT))
        n_steps = ours.shape[1]  # the initial state and every step's
        exact = reference(inputs, np.longdouble, n_steps)
        traces = {
            "dendrax": ours,
            "reference algorithm in float64, increments": reference(inputs, np.float64, n_steps),
            "reference algorithm in float64, for v'": reference(
                inputs, np.float64, n_steps, increment=False
            ),
            "reference in longdouble, for v'": reference(
                inputs, np.longdouble, n_steps, increment=False
            ),
        }
        for solver in ("tree", "branched", "level_parallel"):
            traces[f"dendrax {solver}"] = np.asarray(
                dendrax.integrate(cell, t_max=args.t_max, delta_t=DT, voltage_solver=solver)
            )
        distances = {name: float(np.abs(t - exact).max()) for name, t in traces.items()}
        if jaxley is not None:
            theirs = build(jaxley, JaxleyHH, scale, args.t_max)
            jaxley_trace = np.asarray(jaxley.integrate(theirs, t_max=args.t_max, delta_t=DT))
            their_inputs = jaxley_inputs(theirs, inputs)
            same = all(
                np.array_equal(their_inputs[k], inputs[k])
                for k in inputs
                if k in ("area", "load_in", "load_out")
            )
            their_exact = exact if same else reference(their_inputs, np.longdouble, n_steps)
            distances["jaxley"] = float(np.abs(jaxley_trace - their_exact).max())
            distances["dendrax - jaxley"] = float(np.abs(traces["dendrax"] - jaxley_trace).max())
            distances["jaxley geometry equals dendrax's"] = same
        spikes = int(((exact[0, 1:] > 0) & (exact[0, :-1] <= 0)).sum())
        rows.append({"scale": scale, "spikes at recording 0": spikes, **distances})
        print(json.dumps(rows[-1]), flush=True)
    print("\nmax |simulation - extended-precision reference| over all recordings and steps (mV)")
    for row in rows:
        print(f"HH_gNa x {row['scale']:.6g} ({row['spikes at recording 0']} spikes):")
        for key, value in row.items():
            if key not in ("scale", "spikes at recording 0"):
                print(
                    f"  {key:<46}{value:.3g}" if isinstance(value, float) else f"  {key:<46}{value}"
                )
    if args.save_json:
        with open(args.save_json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
