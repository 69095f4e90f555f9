"""Voltage solvers (tree, sparse, dense) agree; exponential Euler converges and is exact
for a linear compartment; its propagator can be cached."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dendrax as jx
from dendrax.channels import HH, Leak

DT = 0.025
T_MAX = 10.0


def branched_hh_cell(channel=HH):
    comp = jx.Compartment()
    branch = jx.Branch(comp, ncomp=3)
    cell = jx.Cell(branch, parents=[-1, 0, 0, 1, 1, 2])
    cell.insert(channel())
    cell.branch(2).set("radius", 0.5)
    cell.branch(0).comp(0).record("v", verbose=False)
    cell.branch(4).comp(2).record("v", verbose=False)
    cell.branch(5).comp(1).record("v", verbose=False)
    cell.branch(0).comp(0).stimulate(jx.step_current(1.0, 3.0, 0.3, DT, T_MAX), verbose=False)
    return cell


@pytest.mark.parametrize("solver", ["bwd_euler", "crank_nicolson", "fwd_euler"])
def test_voltage_solvers_agree_on_branched_hh_cell(solver):
    cell = branched_hh_cell()
    dt = 0.005 if solver == "fwd_euler" else DT
    traces = {
        name: np.asarray(
            jx.integrate(cell, t_max=T_MAX, delta_t=dt, solver=solver, voltage_solver=name)
        )
        for name in ("jaxley.dhs", "jax.sparse", "dense", "jaxley.dhs.cpu")
    }
    assert traces["jaxley.dhs"].max() > 0.0  # the cell spikes
    for name, trace in traces.items():
        np.testing.assert_allclose(trace, traces["jaxley.dhs"], atol=1e-8, rtol=0, err_msg=name)


def test_sparse_solver_gradients_and_vmap_match_tree():
    cell = branched_hh_cell()
    cell.make_trainable("radius")
    params = cell.get_parameters()

    def loss(p, voltage_solver):
        v = jx.integrate(cell, p, t_max=5.0, voltage_solver=voltage_solver)
        return jnp.mean(v**2)

    g_tree = jax.grad(loss)(params, "jaxley.dhs")[0]["radius"]
    g_sparse = jax.grad(loss)(params, "jax.sparse")[0]["radius"]
    np.testing.assert_allclose(g_sparse, g_tree, rtol=1e-8)
    radii = jnp.asarray([[1.0], [1.2]])
    batched = jax.vmap(lambda r: loss([{"radius": r}], "jax.sparse"))(radii)
    single = [loss([{"radius": r}], "jaxley.dhs") for r in radii]
    np.testing.assert_allclose(batched, single, rtol=1e-10)


def test_exp_euler_is_exact_for_a_linear_compartment():
    """Jaxley's exp_euler: per compartment v <- v_inf + (v - v_inf) exp(-dt/tau)."""
    comp = jx.Compartment()
    comp.insert(Leak())
    comp.record("v", verbose=False)
    amp, delay, dur = 0.01, 1.0, 4.0
    comp.stimulate(jx.step_current(delay, dur, amp, DT, T_MAX), verbose=False)
    v = np.asarray(jx.integrate(comp, t_max=T_MAX, solver="exp_euler"))[0]
    g, e_leak = comp.nodes["Leak_gLeak"][0], comp.nodes["Leak_eLeak"][0]  # S/cm², mV
    v0 = comp.nodes["v"][0]
    area = 2 * np.pi * 1.0 * 10.0  # µm²
    i_ext = amp * 1e5 / area  # µA/cm²
    lin = g * 1e3  # 1/ms with c_m = 1 µF/cm²
    ref = [v0]
    for k in range(v.size - 1):
        inj = i_ext if int(delay / DT) <= k < int((delay + dur) / DT) else 0.0
        v_inf = e_leak + inj / lin
        ref.append(v_inf + (ref[-1] - v_inf) * np.exp(-DT * lin))
    np.testing.assert_allclose(v, ref, atol=1e-10, rtol=0)


def test_exp_euler_single_hh_compartment_matches_jaxley_step():
    """Gates first (with v_n), FD-linearized current, exact exponential voltage update."""
    comp = jx.Compartment()
    channel = HH()
    comp.insert(channel)
    comp.record("v", verbose=False)
    comp.stimulate(jx.step_current(1.0, 2.0, 0.02, DT, 5.0), verbose=False)
    v = np.asarray(jx.integrate(comp, t_max=5.0, solver="exp_euler"))[0]
    params = {k: jnp.asarray([comp.nodes[k][0]]) for k in channel.channel_params}
    states = {k: jnp.asarray([comp.nodes[k][0]]) for k in channel.channel_states}
    area = 2 * np.pi * 10.0
    ref = [comp.nodes["v"][0]]
    for k in range(v.size - 1):
        vn = jnp.asarray([ref[-1]])
        states = {**states, **channel.update_states(states, DT, vn, params)}
        i0 = float(channel.compute_current(states, vn, params)[0]) * 1e3
        i1 = float(channel.compute_current(states, vn + 1e-3, params)[0]) * 1e3
        lin = (i1 - i0) / 1e-3
        inj = 0.02 * 1e5 / area if 40 <= k < 120 else 0.0
        const = lin * ref[-1] - i0 + inj
        v_inf = const / lin
        ref.append(v_inf + (ref[-1] - v_inf) * np.exp(-DT * lin))
    assert max(ref) > 20.0
    np.testing.assert_allclose(v, ref, atol=1e-8, rtol=0)


def test_exp_euler_and_bwd_euler_converge_to_the_same_solution():
    cell = branched_hh_cell()
    t_max = 6.0

    def run(solver, dt):
        # Sample at common times (multiples of 0.1 ms) with the stimulus on [1, 4) ms.
        cell.delete_stimuli()
        cell.branch(0).comp(0).stimulate(jx.step_current(1.0, 3.0, 0.3, dt, t_max), verbose=False)
        v = np.asarray(jx.integrate(cell, t_max=t_max - dt / 2, delta_t=dt, solver=solver))
        return v[:, :: int(round(0.1 / dt))]

    reference = run("crank_nicolson", 0.0025)
    for solver in ("bwd_euler", "exp_euler"):
        errors = [np.mean(np.abs(run(solver, dt) - reference)) for dt in (0.05, 0.025, 0.0125)]
        assert errors[0] > errors[1] > errors[2], (solver, errors)
        assert errors[2] < 0.5, (solver, errors)  # mV


def test_cached_exp_euler_transition_matches_per_call_computation():
    cell = branched_hh_cell()
    plain = np.asarray(jx.integrate(cell, t_max=T_MAX, solver="exp_euler"))
    transition = cell.build_exp_euler_transition_matrix(DT)
    n = cell.nodes.shape[0]
    assert transition.shape == (1, n, n)
    # Rows of G sum to 0 (no current between equal voltages): expm(G dt) keeps a uniform
    # voltage uniform.
    np.testing.assert_allclose(transition[0] @ np.ones(n), np.ones(n), atol=1e-12)
    cell.customize_solver_exp_euler(exp_euler_transition=transition)
    cached = np.asarray(jx.integrate(cell, t_max=T_MAX, solver="exp_euler"))
    np.testing.assert_allclose(cached, plain, atol=1e-12, rtol=0)
    cell.customize_solver_exp_euler(exp_euler_transition=transition[:, :3, :3])
    with pytest.raises(ValueError, match="build_exp_euler_transition_matrix"):
        jx.integrate(cell, t_max=T_MAX, solver="exp_euler")
    cell.customize_solver_exp_euler(None)


def test_unknown_solver_names_are_rejected():
    cell = branched_hh_cell()
    with pytest.raises(ValueError, match="Valid names"):
        jx.integrate(cell, t_max=1.0, voltage_solver="cholesky")
    with pytest.raises(ValueError, match="exp_euler"):
        jx.integrate(cell, t_max=1.0, solver="rk4")


def test_exp_euler_gradient_matches_finite_differences():
    cell = branched_hh_cell(Leak)
    cell.branch(1).make_trainable("radius")
    params = cell.get_parameters()

    def loss(p):
        return jnp.mean(jx.integrate(cell, p, t_max=3.0, solver="exp_euler") ** 2)

    grad = jax.grad(loss)(params)[0]["radius"]
    eps = 1e-6
    up = [{"radius": params[0]["radius"] + eps}]
    down = [{"radius": params[0]["radius"] - eps}]
    fd = (loss(up) - loss(down)) / (2 * eps)
    np.testing.assert_allclose(grad, fd, rtol=1e-5)
