"""Parameters with one value everywhere enter the time loop as scalars; results must not change.

`dendrax.simulator.params.uniform_parameters` picks the columns that hold one value in
every row and are neither trained nor set by `data_set`. These tests check, against the
exact backward-Euler recurrence of leaky compartments
`v[k+1] = (v[k] + dt g E / C) / (1 + dt g / C)` (g in mS/cm²), that such a parameter is
read with its current value (a later `set` is not served from a stale compiled run), that
uniform and non-uniform columns give the same physics, and which columns are picked.
"""

import jax
import jax.numpy as jnp
import numpy as np

import dendrax as jx
from dendrax.modules.export import model_tables, module_structure
from dendrax.simulator.params import uniform_parameters

from .leaky_reference import backward_euler_leak, leaky_cells

jax.config.update("jax_enable_x64", True)

DT, T_MAX, E_LEAK, V0 = 0.025, 5.0, -70.0, -60.0


def _expected(g_leak, n_steps, cm=1.0):
    return backward_euler_leak(V0, g_leak, E_LEAK, n_steps, DT, cm)


def _leaky_cells(n_cells):
    net = leaky_cells(n_cells, E_LEAK, V0)
    net.cell("all").record("v", verbose=False)
    return net


def test_a_uniform_parameter_changed_with_set_is_read_anew():
    net = _leaky_cells(3)
    for g_leak in (1e-4, 5e-4):  # a runtime scalar: the same compiled run serves both
        net.set("Leak_gLeak", g_leak)
        uniform = dict(uniform_parameters(model_tables(net), module_structure(net), []))
        assert uniform["Leak_gLeak"] == g_leak
        got = np.asarray(jx.integrate(net, t_max=T_MAX, delta_t=DT))
        for row in got:
            np.testing.assert_allclose(row, _expected(g_leak, got.shape[1] - 1), atol=1e-10)


def test_under_traced_params_a_changed_uniform_parameter_is_compiled_anew():
    # With traced `params` the uniform value is a compiled-in constant: the module's cache
    # must not hand a later trace the run compiled for the previous value.
    net = _leaky_cells(2)
    net.set("Leak_gLeak", 2e-4)
    net.cell("all").make_trainable("Leak_gLeak", verbose=False)
    params = net.get_parameters()
    for cm in (1.0, 3.0):
        net.set("capacitance", cm)
        assert (
            dict(uniform_parameters(model_tables(net), module_structure(net), []))["capacitance"]
            == cm
        )
        got = np.asarray(jax.jit(lambda p: jx.integrate(net, params=p, t_max=T_MAX))(params))
        for row in got:
            np.testing.assert_allclose(row, _expected(2e-4, got.shape[1] - 1, cm=cm), atol=1e-10)


def test_uniform_and_varying_columns_give_the_same_physics():
    net = _leaky_cells(3)
    g_values = [1e-4, 3e-4, 1e-4]
    for i, g in enumerate(g_values):
        net.cell(i).set("Leak_gLeak", g)
    assert "Leak_gLeak" not in dict(
        uniform_parameters(model_tables(net), module_structure(net), [])
    )
    got = np.asarray(jx.integrate(net, t_max=T_MAX, delta_t=DT))
    n_steps = got.shape[1] - 1
    for row, g in zip(got, g_values, strict=True):
        np.testing.assert_allclose(row, _expected(g, n_steps), atol=1e-10)


def test_trained_and_data_set_columns_stay_arrays_and_get_their_values():
    net = _leaky_cells(2)
    net.set("Leak_gLeak", 1e-4)
    net.cell(0).make_trainable("Leak_gLeak", verbose=False)
    params = net.get_parameters()
    params[0]["Leak_gLeak"] = jnp.asarray([4e-4])
    state = net.cell(1).data_set("capacitance", 2.0, None)
    names = dict(uniform_parameters(model_tables(net), module_structure(net), state))
    assert "Leak_gLeak" not in names and "capacitance" not in names
    assert "Leak_eLeak" in names
    got = np.asarray(jx.integrate(net, params=params, param_state=state, t_max=T_MAX))
    n_steps = got.shape[1] - 1
    np.testing.assert_allclose(got[0], _expected(4e-4, n_steps), atol=1e-10)
    np.testing.assert_allclose(got[1], _expected(1e-4, n_steps, cm=2.0), atol=1e-10)
