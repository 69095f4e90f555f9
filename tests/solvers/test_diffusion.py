"""Intracellular ion diffusion (`module.diffuse`): conservation, the discrete diffusion
equation, pumps linearized into the implicit solve, and errors."""

import numpy as np
import pytest

import dendrax as jx
from dendrax.errors import ModelError
from dendrax.pumps import CaNernstReversal, CaPump

DT = 0.025


def cable(ncomp=10, length=10.0, radius=1.0):
    comp = jx.Compartment()
    branch = jx.Branch(comp, ncomp=ncomp)
    branch.set("length", length)
    branch.set("radius", radius)
    return branch


def test_total_amount_is_conserved_on_a_branched_cell():
    comp = jx.Compartment()
    cell = jx.Cell(jx.Branch(comp, ncomp=3), parents=[-1, 0, 0, 1, 1])
    cell.branch(2).set("radius", 0.4)
    cell.branch(3).set("length", 25.0)
    cell.insert(CaNernstReversal())
    cell.diffuse("CaCon_i")
    cell.set("axial_diffusion_CaCon_i", 50.0)
    rng = np.random.default_rng(0)
    c0 = rng.uniform(1e-5, 1e-3, cell.nodes.shape[0])
    cell.set("CaCon_i", c0)
    cell.record("CaCon_i", verbose=False)
    volume = np.asarray(cell.nodes["volume"])
    amount0 = np.sum(c0 * volume)
    for voltage_solver, solver in [
        ("jaxley.dhs", "bwd_euler"),
        ("jax.sparse", "bwd_euler"),
        ("dense", "crank_nicolson"),
        ("jaxley.dhs", "exp_euler"),
    ]:
        c = np.asarray(
            jx.integrate(cell, t_max=200.0, voltage_solver=voltage_solver, solver=solver)
        )
        amounts = volume @ c
        np.testing.assert_allclose(amounts, amount0, rtol=1e-10, err_msg=solver)
        assert np.ptp(c[:, -1]) < 0.2 * np.ptp(c0)  # it does diffuse


def _laplacian(n, coupling):
    """Discrete diffusion operator of a sealed uniform cable, (n, n), 1/ms."""
    lap = np.zeros((n, n))
    for k in range(n - 1):
        lap[k, k + 1] = lap[k + 1, k] = coupling
        lap[k, k] -= coupling
        lap[k + 1, k + 1] -= coupling
    return lap


def test_step_profile_follows_the_discrete_diffusion_equation():
    n, length, d = 20, 5.0, 0.3
    branch = cable(n, length)
    branch.insert(CaNernstReversal())
    branch.diffuse("CaCon_i")
    branch.set("axial_diffusion_CaCon_i", d)
    c0 = np.where(np.arange(n) < n // 2, 1e-3, 1e-5)
    branch.set("CaCon_i", c0)
    branch.record("CaCon_i", verbose=False)
    t_max = 20.0
    c = np.asarray(jx.integrate(branch, t_max=t_max))
    # Equal cylinders: coupling D pi r² / l between neighbours over volume pi r² l = D / l².
    lap = _laplacian(n, d / length**2)
    ref = [c0]
    step = np.linalg.inv(np.eye(n) - DT * lap)
    for _ in range(c.shape[1] - 1):
        ref.append(step @ ref[-1])
    np.testing.assert_allclose(c, np.array(ref).T, rtol=1e-10, atol=1e-16)
    # Exponential Euler is exact for pure diffusion: expm of the same operator.
    from scipy.linalg import expm

    c_exp = np.asarray(jx.integrate(branch, t_max=t_max, solver="exp_euler"))
    exact = expm(lap * (c.shape[1] - 1) * DT) @ c0
    np.testing.assert_allclose(c_exp[:, -1], exact, rtol=1e-9)


def test_pump_flux_is_linearized_into_the_implicit_diffusion_solve():
    n, length, d = 8, 10.0, 0.5
    branch = cable(n, length)
    branch.insert(CaPump())
    branch.set("i_Ca", 0.0)  # no calcium channel: the pump only relaxes to its minimum
    branch.diffuse("CaCon_i")
    branch.set("axial_diffusion_CaCon_i", d)
    c0 = np.linspace(1e-3, 1e-4, n)
    branch.set("CaCon_i", c0)
    branch.record("CaCon_i", verbose=False)
    c = np.asarray(jx.integrate(branch, t_max=10.0))
    decay, c_min = 80.0, 1e-4
    # No calcium current: -d[c]/dt = (c - c_min) / decay, linear with slope 1 / decay.
    lap = _laplacian(n, d / length**2)
    matrix = np.eye(n) * (1 + DT / decay) - DT * lap
    ref = [c0]
    for _ in range(c.shape[1] - 1):
        ref.append(np.linalg.solve(matrix, ref[-1] + DT * c_min / decay))
    np.testing.assert_allclose(c, np.array(ref).T, rtol=1e-10)


def test_diffusion_errors_and_deletion():
    branch = cable(4)
    branch.insert(CaNernstReversal())
    with pytest.raises(KeyError, match="not a state"):
        branch.diffuse("CaCon_x")
    with pytest.raises(ValueError, match="whole module"):
        branch.comp(0).diffuse("CaCon_i")
    branch.diffuse("CaCon_i")
    assert branch.diffusion_states == ["CaCon_i"]
    assert np.all(branch.nodes["axial_diffusion_CaCon_i"] == 1.0)
    branch.set("axial_diffusion_CaCon_i", 0.0)
    branch.record("CaCon_i", verbose=False)
    with pytest.raises(ValueError, match="axial_diffusion_CaCon_i"):
        jx.integrate(branch, t_max=1.0)
    branch.delete_diffusion("CaCon_i")
    assert "axial_diffusion_CaCon_i" not in branch.nodes.columns
    c = np.asarray(jx.integrate(branch, t_max=1.0))
    assert np.all(c == c[:, :1])  # nothing changes the concentration without diffusion
    with pytest.raises(KeyError, match="does not diffuse"):
        branch.delete_diffusion("CaCon_i")


def test_gradient_with_respect_to_the_diffusion_coefficient():
    import jax
    import jax.numpy as jnp

    branch = cable(6)
    branch.insert(CaNernstReversal())
    branch.diffuse("CaCon_i")
    branch.set("CaCon_i", np.linspace(1e-3, 1e-4, 6))
    branch.make_trainable("axial_diffusion_CaCon_i")
    branch.comp(0).record("CaCon_i", verbose=False)
    params = branch.get_parameters()

    def loss(p):
        return jnp.sum(jx.integrate(branch, p, t_max=5.0)) * 1e3

    grad = jax.grad(loss)(params)[0]["axial_diffusion_CaCon_i"]
    eps = 1e-6
    d0 = params[0]["axial_diffusion_CaCon_i"]
    fd = (
        loss([{"axial_diffusion_CaCon_i": d0 + eps}])
        - loss([{"axial_diffusion_CaCon_i": d0 - eps}])
    ) / (2 * eps)
    assert grad < 0  # faster diffusion drains the high end sooner
    np.testing.assert_allclose(grad, fd, rtol=1e-5)


def test_ion_diffuses_into_compartments_without_its_mechanism():
    """As Jaxley: `diffuse` gives compartments where no mechanism declares the state the mean of
    its values, so the ion spreads there; without sources the amount sum(c * volume) is
    conserved (the reference) and nothing is NaN."""
    cell = jx.Cell(cable(4), parents=[-1, 0])
    cell.branch(1).insert(CaNernstReversal())
    c1 = np.array([1e-4, 2e-4, 3e-4, 6e-4])
    cell.branch(1).set("CaCon_i", c1)
    cell.diffuse("CaCon_i")
    cell.set("axial_diffusion_CaCon_i", 50.0)
    c0 = np.asarray(cell.nodes["CaCon_i"])
    np.testing.assert_array_equal(c0, np.concatenate([np.full(4, c1.mean()), c1]))
    cell.record("CaCon_i", verbose=False)
    c = np.asarray(jx.integrate(cell, t_max=2.0))
    assert np.all(np.isfinite(c))
    volume = np.asarray(cell.nodes["volume"])
    np.testing.assert_allclose(c.T @ volume, np.sum(c0 * volume), rtol=1e-12)
    # The root branch's distal compartment loses ion to its lower neighbour (1e-4 mM).
    assert c[3, -1] < c1.mean()


def test_diffusion_guards_are_assertion_errors_too():
    """Jaxley asserts; dendrax raises ModelError (ValueError and AssertionError)."""
    cell = jx.Cell(cable(2), parents=[-1, 0])
    cell.insert(CaNernstReversal())
    with pytest.raises(ModelError, match="whole module"):
        cell.branch(0).diffuse("CaCon_i")
    net = jx.Network([cell, cell])
    with pytest.raises(AssertionError, match="whole module"):
        net.cell(0).diffuse("CaCon_i")
    cell.diffuse("CaCon_i")
    with pytest.raises(ModelError, match=r"diffuses \['CaCon_i'\].*call `.diffuse\(...\)`"):
        jx.Network([cell, cell])
