"""Fit a compartment's HH conductances to a current-clamp sweep stored in an NWB file.

Real recordings (Allen Cell Types, DANDI) come as NWB files. Offline, this example first
writes one: a "recorded" sweep of a Hodgkin-Huxley compartment with known conductances,
sampled at 50 kHz in volts and amperes as NWB stores them, plus measurement noise. It
then reads the sweep back with `dendrax.io.nwb.read_current_clamp` (mV, nA, dt 0.025 ms),
starts from conductances off by up to 40 %, and fits them by gradient descent on the
mean squared voltage error. Pass `--nwb FILE --sweep N` to fit a sweep of your own.

Run: `python examples/fit_nwb_sweep.py [--out fit_nwb.png]` (needs pynwb and optax:
`pip install 'dendrax[nwb,train]'`). Prints the fitted and true conductances.
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)

import dendrax as jx  # noqa: E402
from dendrax.channels import HH  # noqa: E402
from dendrax.io.nwb import read_current_clamp  # noqa: E402

TRUE = {"HH_gNa": 0.12, "HH_gK": 0.036, "HH_gLeak": 0.0003}  # S/cm²
START = {"HH_gNa": 0.08, "HH_gK": 0.05, "HH_gLeak": 0.0002}
STIM = dict(delay=5.0, dur=20.0, amp=0.05)  # ms, ms, nA
T_MAX, DT = 40.0, 0.025


def build_compartment() -> jx.Compartment:
    comp = jx.Compartment()
    comp.set("length", 20.0)
    comp.set("radius", 5.0)
    comp.insert(HH())
    comp.set("v", -65.0)
    comp.init_states()
    comp.record("v", verbose=False)
    return comp


def write_synthetic_sweep(path: Path, sweep_number: int = 1, noise_mv: float = 0.2) -> None:
    """Simulate the 'true' compartment at 0.02 ms and store it as an NWB sweep."""
    import pynwb
    from pynwb.icephys import CurrentClampSeries, CurrentClampStimulusSeries

    dt_rec = 0.02
    comp = build_compartment()
    for name, value in TRUE.items():
        comp.set(name, value)
    current = jx.step_current(STIM["delay"], STIM["dur"], STIM["amp"], dt_rec, T_MAX)
    comp.stimulate(current, verbose=False)
    v = np.asarray(jx.integrate(comp, delta_t=dt_rec, t_max=T_MAX))[0]
    v = v + np.random.default_rng(0).normal(0.0, noise_mv, v.size)
    n = v.size
    nwb = pynwb.NWBFile(
        session_description="synthetic HH sweep (dendrax example)",
        identifier="dendrax-fit-nwb-example",
        session_start_time=datetime(2026, 1, 1, tzinfo=UTC),
    )
    device = nwb.create_device(name="simulated amplifier")
    electrode = nwb.create_icephys_electrode(name="e0", description="soma", device=device)
    common = dict(
        electrode=electrode, gain=1.0, rate=1e3 / dt_rec, sweep_number=np.uint32(sweep_number)
    )
    nwb.add_acquisition(CurrentClampSeries(name="data_00001_AD0", data=v * 1e-3, **common))
    nwb.add_stimulus(
        CurrentClampStimulusSeries(
            name="data_00001_DA0", data=np.asarray(current)[:n] * 1e-9, **common
        )
    )
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)


def fit(sweep, steps: int, learning_rate: float):
    """Gradient descent (Adam) on log-conductances; returns fitted values and loss curve."""
    import optax

    comp = build_compartment()
    for name in TRUE:
        comp.make_trainable(name, verbose=False)
    data = comp.data_stimulate(jnp.asarray(sweep.stimulus))
    target = jnp.asarray(sweep.voltage)

    def simulate(log_g):
        params = [{name: jnp.exp(log_g[i])[None]} for i, name in enumerate(TRUE)]
        return jx.integrate(
            comp, params=params, data_stimuli=data, delta_t=sweep.delta_t, t_max=sweep.t_max
        )[0]

    def loss(log_g):
        return jnp.mean((simulate(log_g) - target) ** 2)

    log_g = jnp.log(jnp.asarray([START[name] for name in TRUE]))
    optimizer = optax.adam(learning_rate)
    state = optimizer.init(log_g)
    value_and_grad = jax.jit(jax.value_and_grad(loss))
    losses = []
    for _ in range(steps):
        value, grad = value_and_grad(log_g)
        updates, state = optimizer.update(grad, state)
        log_g = optax.apply_updates(log_g, updates)
        losses.append(float(value))
    fitted = {name: float(jnp.exp(log_g[i])) for i, name in enumerate(TRUE)}
    start_trace = np.asarray(simulate(jnp.log(jnp.asarray([START[n] for n in TRUE]))))
    return fitted, losses, start_trace, np.asarray(simulate(log_g))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nwb", type=Path, help="NWB file (default: write a synthetic one)")
    parser.add_argument("--sweep", type=int, default=1, help="sweep number to fit")
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--learning-rate", type=float, default=0.05)
    parser.add_argument("--out", default="fit_nwb.png", help="figure (PNG); '' for none")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = args.nwb
        if path is None:
            path = Path(tmp) / "synthetic_sweep.nwb"
            write_synthetic_sweep(path, args.sweep)
        sweep = read_current_clamp(path, sweep=args.sweep, delta_t=DT)
    print(
        f"sweep {sweep.name}: {sweep.voltage.size} samples at {sweep.delta_t} ms, "
        f"stimulus up to {sweep.stimulus.max():.3f} nA"
    )
    fitted, losses, start_trace, fitted_trace = fit(sweep, args.steps, args.learning_rate)
    print(f"loss (mV²): {losses[0]:.2f} -> {losses[-1]:.3f}")
    for name in TRUE:
        print(
            f"{name}: start {START[name]:.5f}, fitted {fitted[name]:.5f}, "
            f"true {TRUE[name]:.5f} S/cm²"
        )
    if args.out:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, (ax_v, ax_l) = plt.subplots(1, 2, figsize=(10, 3.5))
        ax_v.plot(sweep.t, sweep.voltage, color="0.6", lw=2, label="recorded (NWB)")
        ax_v.plot(sweep.t, start_trace, "C1--", lw=1, label="before fit")
        ax_v.plot(sweep.t, fitted_trace, "C0", lw=1, label="after fit")
        ax_v.set(xlabel="time (ms)", ylabel="membrane potential (mV)")
        ax_v.legend(frameon=False)
        ax_l.semilogy(losses)
        ax_l.set(xlabel="step", ylabel="MSE (mV²)")
        fig.tight_layout()
        fig.savefig(args.out, dpi=120)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
