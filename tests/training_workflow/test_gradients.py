"""Gradients of the training workflow: transforms + checkpointing against central finite
differences, checkpointed ≡ plain, reverse ≡ forward mode, and the memory bound of
`checkpoint_lengths` (float64)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dendrax as jx
from dendrax.optimize import ParamTransform
from dendrax.optimize.transforms import AffineTransform, SigmoidTransform, SoftplusTransform
from tests.training_workflow._cells import DT, T_MAX, hh_cell, stimulated_cell

CHECKPOINTS = [9, 9]  # 81 >= 80 steps: the padded case


@pytest.fixture(scope="module")
def problem():
    """Cell, latent (unconstrained) parameters and the loss of latent parameters."""
    cell = stimulated_cell()
    cell.branch("all").make_trainable("HH_gNa", verbose=False)
    cell.branch(1).make_trainable("radius", verbose=False)
    cell.make_trainable("HH_eK", verbose=False)
    cell.branch(0).comp(1).make_trainable("v", verbose=False)
    cell.branch(2).comp(0).make_trainable("HH_m", verbose=False)
    cell.make_trainable("capacitance", verbose=False)
    transform = ParamTransform(
        [
            {"HH_gNa": SigmoidTransform(0.05, 0.3)},
            {"radius": SoftplusTransform(0.1)},
            {"HH_eK": None},
            {"v": AffineTransform(10.0, -70.0)},
            {"HH_m": SigmoidTransform(0.0, 1.0)},
            {"capacitance": SoftplusTransform(0.2)},
        ]
    )
    params = cell.get_parameters()
    params[0]["HH_gNa"] = jnp.array([0.1, 0.15, 0.2])
    latent = transform.inverse(params)

    def loss(opt_params, checkpoint_lengths=None):
        v = jx.integrate(
            cell,
            params=transform.forward(opt_params),
            t_max=T_MAX,
            delta_t=DT,
            checkpoint_lengths=checkpoint_lengths,
        )
        return jnp.mean((v + 60.0) ** 2)

    grads = {
        "plain": jax.grad(loss)(latent),
        "checkpointed": jax.grad(lambda p: loss(p, CHECKPOINTS))(latent),
    }
    return loss, latent, grads


def _flat(tree):
    return np.concatenate([np.ravel(x) for x in jax.tree_util.tree_leaves(tree)])


def test_checkpointed_gradient_equals_plain(problem):
    loss, latent, grads = problem
    np.testing.assert_allclose(float(loss(latent, CHECKPOINTS)), float(loss(latent)), rtol=1e-12)
    np.testing.assert_allclose(
        _flat(grads["checkpointed"]), _flat(grads["plain"]), rtol=1e-10, atol=1e-14
    )


def test_gradient_with_transforms_and_checkpointing_matches_finite_differences(problem):
    loss, latent, grads = problem
    leaves, treedef = jax.tree_util.tree_flatten(latent)
    grad_leaves = jax.tree_util.tree_leaves(grads["checkpointed"])
    for position, leaf in enumerate(leaves):
        base = np.asarray(leaf, dtype=float)
        for i in range(base.size):
            eps = 1e-5 * max(abs(base[i]), 1e-1)
            values = []
            for sign in (1.0, -1.0):
                shifted = base.copy()
                shifted[i] += sign * eps
                trial = list(leaves)
                trial[position] = jnp.asarray(shifted)
                values.append(
                    float(loss(jax.tree_util.tree_unflatten(treedef, trial), CHECKPOINTS))
                )
            fd = (values[0] - values[1]) / (2 * eps)
            g = float(np.asarray(grad_leaves[position])[i])
            assert abs(fd) > 1e-8, (position, i, fd)  # every parameter matters
            assert abs(g - fd) / abs(fd) < 1e-4, (position, i, g, fd)


def test_reverse_mode_equals_forward_mode(problem):
    loss, latent, grads = problem
    forward = jax.jacfwd(loss)(latent)
    np.testing.assert_allclose(_flat(forward), _flat(grads["plain"]), rtol=1e-9, atol=1e-14)


def test_checkpoint_product_too_short_raises():
    cell = stimulated_cell()
    with pytest.raises(ValueError, match=r"product of checkpoint_lengths \(72\).*80"):
        jx.integrate(cell, t_max=T_MAX, delta_t=DT, checkpoint_lengths=[8, 9])
    with pytest.raises(ValueError, match="positive"):
        jx.integrate(cell, t_max=T_MAX, delta_t=DT, checkpoint_lengths=[0, 100])


def test_three_level_checkpointing_gives_the_same_loss(problem):
    loss, latent, _ = problem
    np.testing.assert_allclose(float(loss(latent, [3, 3, 9])), float(loss(latent)), rtol=1e-12)


def test_checkpointing_bounds_gradient_memory():
    """1600 steps: two levels of 40 need far less scratch memory than storing every step.

    (Every step is rematerialized, so the plain scan stores one carry per step; the nested
    scan stores 40 + 40.)
    """
    cell = hh_cell(ncomp=4, parents=(-1, 0, 0))
    cell.comp(0).record(verbose=False)
    cell.make_trainable("HH_gNa", verbose=False)
    params = cell.get_parameters()

    def temp_bytes(lengths):
        def loss(p):
            return jx.integrate(
                cell, params=p, t_max=40.0, delta_t=DT, checkpoint_lengths=lengths
            ).sum()

        analysis = jax.jit(jax.grad(loss)).lower(params).compile().memory_analysis()
        if analysis is None:
            pytest.skip("this backend gives no memory analysis")
        return analysis.temp_size_in_bytes

    plain, nested = temp_bytes(None), temp_bytes([40, 40])
    assert nested < plain / 4, (nested, plain)
