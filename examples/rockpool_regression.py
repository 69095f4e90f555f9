"""Frozen noise -> sinusoid regression with ``dendrax.nn`` (after Rockpool's JAX training tutorial).

A fixed ("frozen") noise input of ``T = 2000`` steps x ``N_IN`` channels must be mapped onto three
sinusoids (the "3 classes"). Two networks are trained with :func:`dendrax.training.fit`:

* ``ff``: ``Sequential(Linear, Instant(tanh), Linear)``, a stateless feed-forward network;
* ``rate``: ``Sequential(Linear, Rate, Linear)``; the rate layer's time constants are trained too,
  with a lower bound of 10 ms enforced softly via ``bounds_cost``.

Usage::

    python examples/rockpool_regression.py --epochs 250 --out regression.png
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from dendrax.nn import Instant, Linear, Rate, Sequential
from dendrax.training import fit, make_bounds, mse

T = 2000  # time steps (dt = 1 ms -> 2 s)
N_IN = 16  # frozen-noise channels
N_HIDDEN = {"ff": 64, "rate": 32}
N_OUT = 3  # sinusoids ("classes")
TAU_MIN = 10e-3  # s, lower bound on the Rate layer's time constants
DEFAULT_EPOCHS = 250


def make_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Smoothed frozen-noise input ``(T, N_IN)``, sinusoid targets ``(T, N_OUT)`` (2, 1, 0.5 s)."""
    rng = np.random.default_rng(seed)
    # Frozen noise, low-pass filtered (exponential smoothing, 20 ms) and standardised, so that an
    # instantaneous network can also regress the targets.
    white = rng.standard_normal((T + 200, N_IN))
    decay = np.exp(-1e-3 / 20e-3)
    smooth = np.empty_like(white)
    acc = np.zeros(N_IN)
    for k in range(len(white)):
        acc = decay * acc + white[k]
        smooth[k] = acc
    smooth = smooth[200:]  # drop the filter's start-up transient
    inputs = (smooth - smooth.mean(0)) / smooth.std(0)
    t = np.arange(T) * 1e-3
    periods = np.array([2.0, 1.0, 0.5])
    targets = np.sin(2 * np.pi * t[:, None] / periods[None, :])
    return inputs, targets


def build(model: str, seed: int = 0) -> Sequential:
    """Return the untrained network: ``"ff"`` (Linear-tanh-Linear) or ``"rate"``."""
    keys = [seed, seed + 1]
    n_hid = N_HIDDEN.get(model)
    if model == "ff":
        return Sequential(
            Linear((N_IN, n_hid), rng_key=keys[0]),
            Instant(n_hid, jnp.tanh),
            Linear((n_hid, N_OUT), rng_key=keys[1]),
        )
    if model == "rate":
        # Time constants start spread over 5-50 ms: some begin below the 10 ms bound.
        tau = np.random.default_rng(seed + 2).uniform(5e-3, 50e-3, size=n_hid)
        return Sequential(
            Linear((N_IN, n_hid), rng_key=keys[0]),
            Rate(n_hid, tau=tau, activation_func="tanh", rng_key=seed),
            Linear((n_hid, N_OUT), rng_key=keys[1]),
        )
    raise ValueError(f"model must be 'ff' or 'rate', got {model!r}")


def train(
    model: str = "ff",
    epochs: int = DEFAULT_EPOCHS,
    lr: float = 1e-2,
    lr_tau: float = 1e-3,
    seed: int = 0,
    progress: bool = False,
) -> dict:
    """Train one network on the frozen-noise task (Adam; ``lr_tau`` (s/step) for time constants).

    Returns a dict with ``losses`` (task MSE per epoch, without the bounds cost), ``net`` (the
    trained network), ``output`` ``(T, N_OUT)``, ``target`` and, for ``"rate"``, ``tau`` (s).
    """
    inputs, targets = make_data(seed)
    net = build(model, seed)
    params = net.parameters()
    bounds = None
    if model == "rate":
        lower, upper = make_bounds(params)
        lower["1_Rate"]["tau"] = TAU_MIN
        bounds = (lower, upper)

    def loss_fn(p):
        out, _, _ = net.reset_state().set_attributes(p)(inputs)
        loss = mse(out[0], targets)
        return loss, {"mse": loss}

    # Time constants are in seconds: give them their own, smaller Adam step so that one update
    # cannot jump far below the bound (forward Euler needs tau > dt).
    labels = jax.tree_util.tree_map_with_path(
        lambda path, _: "tau" if getattr(path[-1], "key", None) == "tau" else "rest", params
    )
    optimizer = optax.multi_transform({"tau": optax.adam(lr_tau), "rest": optax.adam(lr)}, labels)
    # The bounds cost is >= 1 per violating element and its gradient is ~1 per second of
    # violation, so it is weighted up to dominate the task gradient near the bound.
    params, history = fit(
        loss_fn,
        params,
        None,
        optimizer,
        epochs,
        bounds=bounds,
        bounds_weight=100.0,
        has_aux=True,
        progress=progress,
    )
    net = net.set_attributes(params)
    result = {
        "losses": np.asarray(history["metrics"]["mse"]),
        "net": net,
        "target": targets,
        "output": np.asarray(net(inputs)[0][0]),
    }
    if model == "rate":
        result["tau"] = np.asarray(params["1_Rate"]["tau"])
    return result


def plot(results: dict, path: str) -> None:
    """Save the loss curves and the trained outputs against the targets as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 1 + len(results), figsize=(5 * (1 + len(results)), 3.5))
    for name, res in results.items():
        axes[0].semilogy(res["losses"], label=name)
    axes[0].set(xlabel="epoch", ylabel="MSE", title="training loss")
    axes[0].legend()
    for ax, (name, res) in zip(axes[1:], results.items(), strict=True):
        t = np.arange(T) * 1e-3
        ax.plot(t, res["target"], "k--", lw=1)
        ax.plot(t, res["output"], lw=1)
        ax.set(xlabel="time (s)", title=f"{name}: output (solid) vs target (dashed)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS)
    parser.add_argument("--out", default="rockpool_regression.png", help="PNG output path")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    results = {}
    for model in ("ff", "rate"):
        t0 = time.perf_counter()
        res = train(model, epochs=args.epochs, seed=args.seed, progress=True)
        losses = res["losses"]
        print(
            f"{model}: loss {losses[0]:.4f} -> {losses[-1]:.4f} "
            f"({losses[0] / losses[-1]:.1f}x lower) in {time.perf_counter() - t0:.1f} s"
        )
        if model == "rate":
            print(
                f"rate: tau range {res['tau'].min() * 1e3:.2f}-{res['tau'].max() * 1e3:.2f} ms "
                f"(lower bound {TAU_MIN * 1e3:.0f} ms)"
            )
        results[model] = res
    plot(results, args.out)
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
