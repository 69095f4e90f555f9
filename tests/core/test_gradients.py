"""Rung 5: gradients of a voltage loss against central finite differences (float64)."""

import jax
import jax.numpy as jnp
import numpy as np

import dendrax as jx
from dendrax.channels import HH

T_MAX, DT = 3.0, 0.025


def _cell():
    comp = jx.Compartment()
    cell = jx.Cell([jx.Branch(comp, 2), jx.Branch(comp, 3), jx.Branch(comp, 1)], parents=[-1, 0, 0])
    cell.set("axial_resistivity", 300.0)
    cell.insert(HH())
    cell.init_states()
    cell.branch(0).comp(0).stimulate(jx.step_current(0.5, 2.0, 0.05, DT, T_MAX), verbose=False)
    cell.branch(1).comp(2).record(verbose=False)
    cell.branch(0).comp(1).record(verbose=False)
    return cell


def _loss_fn(cell):
    def loss(params):
        v = jx.integrate(cell, params=params, t_max=T_MAX, delta_t=DT)
        return jnp.mean((v + 60.0) ** 2)

    return loss


TRAINABLES = [
    ("radius", lambda c: c.branch(1)),
    ("length", lambda c: c.branch(0)),
    ("axial_resistivity", lambda c: c),
    ("capacitance", lambda c: c.branch(2)),
    ("HH_gNa", lambda c: c.branch("all")),
    ("HH_eK", lambda c: c),
    ("v", lambda c: c.branch(0).comp(1)),
]


def test_gradients_match_finite_differences():
    cell = _cell()
    for key, where in TRAINABLES:
        where(cell).make_trainable(key, verbose=False)
    params = cell.get_parameters()
    loss = _loss_fn(cell)
    grads = jax.grad(loss)(params)
    for position, (key, _) in enumerate(TRAINABLES):
        base = np.asarray(params[position][key], dtype=float)
        for i in range(base.size):
            eps = 1e-5 * max(abs(base[i]), 1e-3)
            shifted = []
            for sign in (1.0, -1.0):
                values = base.copy()
                values[i] += sign * eps
                trial = list(params)
                trial[position] = {key: jnp.asarray(values)}
                shifted.append(float(loss(trial)))
            fd = (shifted[0] - shifted[1]) / (2 * eps)
            g = float(grads[position][key][i])
            rel = abs(g - fd) / max(abs(fd), 1e-12)
            assert rel < 1e-4, (key, i, g, fd)


def test_reverse_mode_agrees_with_forward_mode():
    cell = _cell()
    cell.branch("all").make_trainable("radius", verbose=False)
    params = cell.get_parameters()
    loss = _loss_fn(cell)

    def loss_of_array(x):
        return loss([{"radius": x}])

    rev = jax.grad(loss_of_array)(params[0]["radius"])
    fwd = jax.jacfwd(loss_of_array)(params[0]["radius"])
    np.testing.assert_allclose(np.asarray(rev), np.asarray(fwd), rtol=1e-9, atol=1e-12)
