"""Clamps as in Jaxley 0.14: `integrate` takes its duration from the clamps, a later clamp
of the same compartment overrides an earlier one (`data_clamp` over `clamp`), clamped
currents drive the membrane, and `add_stimuli` / `add_clamps` extend `externals`.

References are hand-computed: with a clamped (constant) current and no other membrane
current, the implicit step is exact and the voltage ramps linearly,
`v_n = v_0 - n dt I / C` (I in µA/cm², C in µF/cm²).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dendrax as jx
from dendrax.channels import HH
from dendrax.integrate import add_clamps, add_stimuli
from dendrax.synapses import IonotropicSynapse

DT = 0.025


def test_duration_from_clamps_without_t_max():
    comp = jx.Compartment()
    comp.insert(HH())
    comp.record(verbose=False)
    comp.clamp("HH_m", jnp.full(400, 0.3), verbose=False)
    comp.stimulate(jnp.full(250, 0.1), verbose=False)  # shorter: zero-padded
    # Jitted data clamp, no t_max: one step per time point of the longest input.
    run = jax.jit(lambda x: jx.integrate(comp, data_clamps=comp.data_clamp("v", x)))
    v = np.asarray(run(jnp.full(400, -40.0)))
    assert v.shape == (1, 401)
    np.testing.assert_array_equal(v[0, 1:], -40.0)
    bare = jx.Compartment()
    bare.record(verbose=False)
    with pytest.raises(ValueError, match="stimulus or clamp"):
        jx.integrate(bare)


def test_later_clamp_of_the_same_row_wins():
    branch = jx.Branch(jx.Compartment(), ncomp=3)
    branch.insert(HH())
    branch.comp([0, 2]).clamp("v", jnp.full(100, -50.0), verbose=False)
    branch.comp("all").record(verbose=False)
    data = branch.comp(0).data_clamp("v", jnp.full(100, -60.0))
    v = np.asarray(jx.integrate(branch, data_clamps=data))
    np.testing.assert_array_equal(v[0, 1:], -60.0)  # data_clamp overrides clamp
    np.testing.assert_array_equal(v[2, 1:], -50.0)  # the other clamped row keeps its clamp
    assert np.std(v[1, 1:]) > 0.1


def test_clamped_channel_current_drives_the_membrane():
    comp = jx.Compartment()
    comp.insert(HH())
    comp.record("i_HH", verbose=False)
    comp.record(verbose=False)
    i_clamp = 1e-3  # mA/cm² = 1 µA/cm²: -1 mV/ms with C = 1 µF/cm²
    comp.clamp("i_HH", jnp.full(200, i_clamp), verbose=False)
    out = np.asarray(jx.integrate(comp, delta_t=DT))
    np.testing.assert_array_equal(out[0, 1:], i_clamp)
    n = np.arange(201)
    np.testing.assert_allclose(out[1], -70.0 - n * DT * 1e3 * i_clamp, atol=1e-10, rtol=0)
    # The same through data_clamp inside jit.
    comp.delete_clamps()
    run = jax.jit(lambda x: jx.integrate(comp, data_clamps=comp.data_clamp("i_HH", x)))
    np.testing.assert_allclose(np.asarray(run(jnp.full(200, i_clamp))), out, atol=1e-12)


def test_clamped_synaptic_current_drives_the_postsynaptic_membrane():
    cell = jx.Cell()
    net = jx.Network([cell, cell])
    jx.connect(net.cell(0), net.cell(1), IonotropicSynapse())
    net.cell(1).record(verbose=False)
    net.IonotropicSynapse.record("i_IonotropicSynapse", verbose=False)
    i_clamp = -0.002  # nA, inward
    net.IonotropicSynapse.clamp("i_IonotropicSynapse", jnp.full(80, i_clamp), verbose=False)
    out = np.asarray(jx.integrate(net, delta_t=DT))
    area = 2 * np.pi * 1.0 * 10.0  # µm², default compartment
    rate = -i_clamp * 1e5 / area  # µA/cm² inward -> mV/ms depolarisation, C = 1
    np.testing.assert_allclose(out[0], -70.0 + np.arange(81) * DT * rate, atol=1e-10, rtol=0)
    np.testing.assert_array_equal(out[1, 1:], i_clamp)


def test_add_stimuli_and_add_clamps_extend_externals():
    externals = {"i": jnp.ones((1, 4)), "v": jnp.full((1, 5), -50.0)}
    external_inds = {"i": np.array([2]), "v": np.array([0])}
    data_stimuli = [(None, np.array([5, 6]), jnp.arange(6.0).reshape(2, 3))]
    ext, inds = add_stimuli(externals, external_inds, data_stimuli)
    np.testing.assert_array_equal(inds["i"], [2, 5, 6])
    np.testing.assert_array_equal(ext["i"], [[1, 1, 1, 1], [0, 1, 2, 0], [3, 4, 5, 0]])
    assert externals["i"].shape == (1, 4)  # inputs are not modified

    data_clamps = [("v", "node", np.array([0, 3]), jnp.full((2, 4), -60.0))]
    data_clamps += [("HH_m", "node", np.array([1]), jnp.full((1, 4), 0.2))]
    ext, inds = add_clamps(ext, inds, data_clamps)
    np.testing.assert_array_equal(inds["v"], [0, 3])  # row 0: the later clamp wins
    np.testing.assert_array_equal(ext["v"], np.full((2, 4), -60.0))
    np.testing.assert_array_equal(inds["HH_m"], [1])
    np.testing.assert_array_equal(ext["HH_m"], [[0.2] * 4])
    assert add_stimuli(externals, external_inds, None)[0]["i"].shape == (1, 4)
