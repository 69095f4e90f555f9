"""Training throughput of ``examples/rockpool_regression.py``: dendrax.nn vs Rockpool's JAX modules.

Both networks of the example (``ff``: ``Sequential(Linear, Instant(tanh), Linear)``; ``rate``:
``Sequential(Linear, Rate(tanh), Linear)``) are built once with ``dendrax.nn`` (exactly as in the
example) and, when ``rockpool`` is importable, once with ``rockpool.nn.modules.LinearJax /
InstantJax / RateJax`` in ``rockpool.nn.combinators.Sequential`` with the same shapes, weights,
time constants, dt, loss (task MSE, plus the example's weighted bounds cost on ``tau`` for
``rate``), optax optimizer (Adam, separate learning rate for ``tau``) and data.

Timed: one jitted ``value_and_grad`` + optax update step, after warm-up, ``block_until_ready``
on every step; the implementations are timed in alternating blocks so that load changes on the
machine affect both alike. Reported: steps/s from the median step time.

Usage::

    python bench/bench_training.py [--steps 100] [--warmup 5] [--models ff rate]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import optax

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))

import rockpool_regression as example  # noqa: E402

from dendrax.training import bounds_cost, make_bounds, mse  # noqa: E402

LR, LR_TAU, BOUNDS_WEIGHT = 1e-2, 1e-3, 100.0


def _import_rockpool():
    """Return ``(LinearJax, InstantJax, RateJax, Sequential)`` or the import error's text."""
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "Could not import dependencies for ... torch"
            from rockpool.nn.combinators import Sequential
            from rockpool.nn.modules import InstantJax, LinearJax, RateJax
    except Exception as err:  # noqa: BLE001 - any failure means "no rockpool column"
        return f"{type(err).__name__}: {err}"
    return LinearJax, InstantJax, RateJax, Sequential


def build_rockpool(model: str, dendrax_net, rp):
    """The Rockpool twin of ``dendrax_net``: same shapes, weights, tau, bias, threshold, dt."""
    linear_jax, instant_jax, rate_jax, sequential = rp
    p = dendrax_net.parameters()
    n_hid = example.N_HIDDEN[model]
    w_in = jnp.asarray(p["0_Linear"]["weight"], jnp.float32)
    w_out = jnp.asarray(p["2_Linear"]["weight"], jnp.float32)
    if model == "ff":
        hidden = instant_jax(n_hid, function=jnp.tanh)
    else:
        rate = p["1_Rate"]
        hidden = rate_jax(
            n_hid,
            tau=jnp.asarray(rate["tau"], jnp.float32),
            bias=jnp.asarray(rate["bias"], jnp.float32),
            threshold=jnp.asarray(rate["threshold"], jnp.float32),
            activation_func="tanh",
            dt=float(dendrax_net[1].dt),
        )
    return sequential(
        linear_jax((example.N_IN, n_hid), weight=w_in),
        hidden,
        linear_jax((n_hid, example.N_OUT), weight=w_out),
    )


def make_step(net, inputs, targets, model: str):
    """``(step, params, opt_state)``; ``step(params, opt_state) -> (params, opt_state, loss)``."""
    params = jax.tree_util.tree_map(lambda x: jnp.asarray(x, jnp.float32), net.parameters())
    bounds = None
    if model == "rate":
        lower, upper = make_bounds(params)
        rate_key = next(k for k in lower if "Rate" in k)
        lower[rate_key]["tau"] = example.TAU_MIN
        bounds = (lower, upper)
    labels = jax.tree_util.tree_map_with_path(
        lambda path, _: "tau" if getattr(path[-1], "key", None) == "tau" else "rest", params
    )
    optimizer = optax.multi_transform({"tau": optax.adam(LR_TAU), "rest": optax.adam(LR)}, labels)
    inputs, targets = jnp.asarray(inputs, jnp.float32), jnp.asarray(targets, jnp.float32)

    def loss_fn(p):
        out, _, _ = net.reset_state().set_attributes(p)(inputs)
        loss = mse(out[0], targets)
        if bounds is not None:
            loss = loss + BOUNDS_WEIGHT * bounds_cost(p, *bounds)
        return loss

    @jax.jit
    def step(p, opt_state):
        loss, grads = jax.value_and_grad(loss_fn)(p)
        updates, opt_state = optimizer.update(grads, opt_state, p)
        return optax.apply_updates(p, updates), opt_state, loss

    return step, params, optimizer.init(params)


class _Runner:
    """Holds one implementation's training state; ``run(n)`` times ``n`` steps."""

    def __init__(self, step, params, opt_state):
        self.step, self.params, self.opt_state = step, params, opt_state
        self.times: list[float] = []
        start = time.perf_counter()
        self.first_loss = float(self._one())  # compiles
        self.compile_s = time.perf_counter() - start

    def _one(self):
        self.params, self.opt_state, loss = self.step(self.params, self.opt_state)
        return jax.block_until_ready(loss)

    def warm(self, n: int) -> None:
        for _ in range(n):
            self._one()

    def run(self, n: int) -> None:
        for _ in range(n):
            start = time.perf_counter()
            loss = self._one()
            self.times.append(time.perf_counter() - start)
        self.last_loss = float(loss)

    @property
    def steps_per_s(self) -> float:
        return 1.0 / statistics.median(self.times)


def bench(models, steps: int, warmup: int, block: int = 10) -> list[dict]:
    rp = _import_rockpool()
    have_rp = not isinstance(rp, str)
    inputs, targets = example.make_data(0)
    rows = []
    for model in models:
        dnet = example.build(model, 0)
        runners = {"dendrax": _Runner(*make_step(dnet, inputs, targets, model))}
        if have_rp:
            rnet = build_rockpool(model, dnet, rp)
            runners["rockpool"] = _Runner(*make_step(rnet, inputs, targets, model))
        for r in runners.values():
            r.warm(warmup)
        done = 0
        while done < steps:  # alternate blocks: machine load hits both implementations alike
            n = min(block, steps - done)
            for r in runners.values():
                r.run(n)
            done += n
        rows.append({"model": model, **{name: r for name, r in runners.items()}})
    return rows, (None if have_rp else rp)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100, help="timed steps per implementation")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps after compiling")
    parser.add_argument("--models", nargs="+", default=["ff", "rate"], choices=["ff", "rate"])
    args = parser.parse_args(argv)

    print(
        f"jax {jax.__version__} on {jax.devices()[0].platform}; T={example.T}, "
        f"N_IN={example.N_IN}, N_HIDDEN={example.N_HIDDEN}, N_OUT={example.N_OUT}; "
        f"median of {args.steps} steps after {args.warmup} warm-up steps"
    )
    rows, rp_error = bench(args.models, args.steps, args.warmup)
    header = (
        f"{'model':<6} {'dendrax steps/s':>16} {'rockpool steps/s':>17} "
        f"{'dendrax/rockpool':>17}  {'compile s (dx/rp)':>18}  {'loss0 (dx/rp)':>18}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        dx, rp = row["dendrax"], row.get("rockpool")
        if rp is None:
            print(
                f"{row['model']:<6} {dx.steps_per_s:>16.1f} {'-':>17} {'-':>17}  "
                f"{dx.compile_s:>18.2f}  {dx.first_loss:>18.4f}"
            )
        else:
            print(
                f"{row['model']:<6} {dx.steps_per_s:>16.1f} {rp.steps_per_s:>17.1f} "
                f"{dx.steps_per_s / rp.steps_per_s:>17.2f}  "
                f"{f'{dx.compile_s:.2f}/{rp.compile_s:.2f}':>18}  "
                f"{f'{dx.first_loss:.4f}/{rp.first_loss:.4f}':>18}"
            )
    if rp_error is not None:
        print(f"note: rockpool not importable ({rp_error}); only dendrax was timed")


if __name__ == "__main__":
    main()
