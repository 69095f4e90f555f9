"""Tests for dendrax.optimize.optimizer.TypeOptimizer and dendrax.optimize.utils.l2_norm."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

optax = pytest.importorskip("optax")

from dendrax.optimize.optimizer import TypeOptimizer  # noqa: E402
from dendrax.optimize.utils import l2_norm  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def _x64():
    prev = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", prev)


def _params():
    return [
        {"HH_gNa": jnp.array([0.12, 0.2])},
        {"radius": jnp.array([1.0, 2.0, 3.0])},
        {"HH_gK": jnp.array([0.036])},
    ]


def _grad_at(step, params):
    """Deterministic fake gradients depending on step and current params (same structure)."""
    return [{k: jnp.sin(v * (step + 1.0)) + 0.1 * step for k, v in d.items()} for d in params]


def _run_type_optimizer(opt, params, n_steps):
    state = opt.init(params)
    update = jax.jit(opt.update)
    for step in range(n_steps):
        updates, state = update(_grad_at(step, params), state)
        params = optax.apply_updates(params, updates)
    return params


def _run_reference(make_opt_for_key, params, n_steps):
    """Independent reference: one optax optimizer per key, stepped by hand on plain arrays."""
    flat = {k: v for d in params for k, v in d.items()}
    opts = {k: make_opt_for_key(k) for k in flat}
    states = {k: opts[k].init(v) for k, v in flat.items()}
    updates = {k: jax.jit(opts[k].update) for k in flat}
    for step in range(n_steps):
        for k in flat:
            g = jnp.sin(flat[k] * (step + 1.0)) + 0.1 * step
            u, states[k] = updates[k](g, states[k])
            flat[k] = flat[k] + u
    return flat


def _assert_matches(result, reference):
    for d in result:
        for k, v in d.items():
            np.testing.assert_allclose(v, reference[k], rtol=1e-13, atol=1e-15)


def test_per_key_learning_rates_match_separate_optax():
    lrs = {"HH_gNa": 0.01, "radius": 0.1, "HH_gK": 0.5}
    opt = TypeOptimizer(lambda lr: optax.adam(lr), lrs, _params())
    result = _run_type_optimizer(opt, _params(), n_steps=5)
    reference = _run_reference(lambda k: optax.adam(lrs[k]), _params(), n_steps=5)
    _assert_matches(result, reference)
    # the per-key rates really differ: a single shared optimizer gives something else
    shared = _run_reference(lambda k: optax.adam(0.01), _params(), n_steps=5)
    assert not np.allclose(result[1]["radius"], shared["radius"])


def test_dict_args_are_keyword_arguments():
    args = {
        "HH_gNa": {"learning_rate": 0.05, "momentum": 0.9},
        "radius": {"learning_rate": 0.2},
        "HH_gK": {"learning_rate": 0.01, "momentum": 0.5, "nesterov": True},
    }
    opt = TypeOptimizer(optax.sgd, args, _params())
    result = _run_type_optimizer(opt, _params(), n_steps=4)
    reference = _run_reference(lambda k: optax.sgd(**args[k]), _params(), n_steps=4)
    _assert_matches(result, reference)


def test_default_args_and_missing_key_error():
    lrs = {"radius": 0.1}
    with pytest.raises(KeyError, match="HH_gNa"):
        TypeOptimizer(lambda lr: optax.adam(lr), lrs, _params())
    opt = TypeOptimizer(lambda lr: optax.adam(lr), lrs, _params(), default_args=0.003)
    result = _run_type_optimizer(opt, _params(), n_steps=3)
    reference = _run_reference(lambda k: optax.adam(lrs.get(k, 0.003)), _params(), n_steps=3)
    _assert_matches(result, reference)


def test_update_is_jittable_and_structure_preserved():
    params = _params()
    opt = TypeOptimizer(
        lambda lr: optax.adam(lr), {"HH_gNa": 0.01, "radius": 0.1, "HH_gK": 0.02}, params
    )
    state = opt.init(params)
    grads = _grad_at(0, params)
    upd_eager, _ = opt.update(grads, state)
    upd_jit, state_jit = jax.jit(opt.update)(grads, state)
    assert jax.tree_util.tree_structure(upd_jit) == jax.tree_util.tree_structure(params)
    for a, b in zip(
        jax.tree_util.tree_leaves(upd_eager), jax.tree_util.tree_leaves(upd_jit), strict=True
    ):
        np.testing.assert_allclose(a, b, rtol=1e-14)


def test_params_forwarded_to_optax():
    params = _params()
    opt = TypeOptimizer(
        lambda lr: optax.adamw(lr, weight_decay=0.1),
        {"HH_gNa": 0.01, "radius": 0.1, "HH_gK": 0.02},
        params,
    )
    state = opt.init(params)
    grads = _grad_at(0, params)
    upd, _ = opt.update(grads, state, params)
    ref_opt = optax.adamw(0.1, weight_decay=0.1)
    ref_u, _ = ref_opt.update(
        grads[1]["radius"], ref_opt.init(params[1]["radius"]), params[1]["radius"]
    )
    np.testing.assert_allclose(upd[1]["radius"], ref_u, rtol=1e-14)


def test_layout_mismatch_raises():
    opt = TypeOptimizer(
        lambda lr: optax.sgd(lr), {"HH_gNa": 0.1, "radius": 0.1, "HH_gK": 0.1}, _params()
    )
    with pytest.raises(ValueError, match="layout"):
        opt.init(_params()[:2])


def test_l2_norm():
    tree = [{"a": jnp.array([3.0, 4.0])}, {"b": jnp.array([[1.0, 2.0], [2.0, 4.0]])}, 2.0]
    expected = np.sqrt(9 + 16 + 1 + 4 + 4 + 16 + 4)
    np.testing.assert_allclose(l2_norm(tree), expected, rtol=1e-14)
    assert float(l2_norm([])) == 0.0
    g = jax.jit(jax.grad(l2_norm))({"x": jnp.array([3.0, 4.0])})
    np.testing.assert_allclose(g["x"], [0.6, 0.8], rtol=1e-14)


def test_type_optimizer_is_public_in_dendrax_optimize():
    """As Jaxley (`from jaxley.optimize import TypeOptimizer`); a positional argument list per
    type (`lambda a: optax.sgd(a[0], momentum=a[1])`) gives each type its own SGD step,
    checked against the hand-computed first step `p - lr * g` (momentum has no history yet)."""
    import dendrax.optimize as opt_pkg

    assert opt_pkg.TypeOptimizer is TypeOptimizer
    params = [{"HH_gNa": jnp.array([0.12])}, {"radius": jnp.array([1.0, 2.0])}]
    grads = [{"HH_gNa": jnp.array([2.0])}, {"radius": jnp.array([0.5, -1.0])}]
    lrs = {"HH_gNa": [0.01, 0.1], "radius": [1.0, 0.2]}
    opt = opt_pkg.TypeOptimizer(lambda a: optax.sgd(a[0], momentum=a[1]), lrs, params)
    updates, _ = opt.update(grads, opt.init(params))
    new = optax.apply_updates(params, updates)
    np.testing.assert_allclose(new[0]["HH_gNa"], [0.12 - 0.01 * 2.0], rtol=1e-15)
    np.testing.assert_allclose(new[1]["radius"], [1.0 - 0.5, 2.0 + 1.0], rtol=1e-15)
