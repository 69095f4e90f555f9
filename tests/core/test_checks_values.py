"""Concrete values are checked on every path, before anything is traced (issue 21).

Each case asserts the exception type and the message: the quantity, where it came from,
the compartment (or synapse), the value and the valid range.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dendrax as jx
from dendrax.channels import HH, Leak
from dendrax.checks.ranges import GATE, POSITIVE, Range, mechanism_ranges, range_of
from dendrax.checks.values import blow_up_message
from dendrax.synapses import IonotropicSynapse


def _cell():
    """Two branches of two compartments (branch 1 holds compartments 2 and 3), HH."""
    cell = jx.Cell(jx.Branch(jx.Compartment(), 2), parents=[-1, 0])
    cell.insert(HH())
    cell.branch(0).comp(0).record(verbose=False)
    return cell


# ------------------------------------------------------------------ ranges


def test_range_bounds_and_mask():
    assert POSITIVE.bounds() == "> 0"
    assert GATE.bounds() == "in [0, 1]"
    assert Range(-1.0, 1.0, open_low=True).bounds() == "in (-1, 1]"
    x = np.array([-1.0, 0.0, 0.5, 1.0, 1.5, np.nan, np.inf])
    np.testing.assert_array_equal(GATE.valid(x), [False, True, True, True, False, False, False])
    np.testing.assert_array_equal(POSITIVE.valid(x), [False, False, True, True, True, False, False])


def test_ranges_follow_declarations_and_conventions():
    ranges = mechanism_ranges(HH())
    assert ranges["HH_m"] == GATE
    assert ranges["HH_gNa"].bounds() == ">= 0"
    assert ranges["HH_eNa"].bounds() == ""  # reversal potentials: finite only
    # A renamed channel keeps its declared gates (keyed without the prefix).
    assert mechanism_ranges(HH().change_name("Soma"))["Soma_h"] == GATE
    assert mechanism_ranges(IonotropicSynapse())["IonotropicSynapse_gS"].bounds() == ">= 0"
    # Undeclared states of other mechanisms are not gates (Izhikevich_u can be negative).
    from dendrax.channels import Izhikevich

    assert mechanism_ranges(Izhikevich())["Izhikevich_u"].bounds() == ""


def test_range_of_geometry_and_voltage():
    cell = _cell()
    assert range_of(cell.base, "radius").bounds() == "> 0"
    assert range_of(cell.base, "v").bounds() == "in (-1000, 1000)"


# ------------------------------------------------------------------ set


def test_set_negative_conductance():
    with pytest.raises(ValueError, match=r"'HH_gNa' must be >= 0; got -0\.1 at compartment 0"):
        _cell().set("HH_gNa", -0.1)


def test_set_gate_out_of_unit_interval():
    with pytest.raises(ValueError, match=r"'HH_m' must be in \[0, 1\]; got 2 at compartment 2"):
        _cell().branch(1).set("HH_m", 2.0)


def test_set_gate_at_bounds_is_accepted():
    cell = _cell()
    cell.set("HH_m", 0.0)
    cell.set("HH_h", 1.0)
    cell.set("HH_gK", 0.0)
    np.testing.assert_array_equal(cell.nodes["HH_h"].to_numpy(), np.ones(4))


def test_set_implausible_voltage():
    with pytest.raises(ValueError, match=r"'v' must be in \(-1000, 1000\) \(mV\); got 1e\+06"):
        _cell().set("v", 1e6)


def test_set_names_the_first_bad_compartment_and_the_count():
    values = np.array([0.1, 0.2, -1.0, -2.0])
    with pytest.raises(ValueError, match=r"got -1 at compartment 2 \(2 of 4 values"):
        _cell().set("HH_gK", values)


def test_set_geometry_message_names_unit():
    with pytest.raises(ValueError, match=r"'radius' must be > 0 \(µm\); got -623 at compartment 1"):
        _cell().branch(0).comp(1).set("radius", -623.0)


def test_set_negative_synaptic_conductance():
    cells = [jx.Cell(jx.Branch(jx.Compartment(), 1), parents=[-1]) for _ in range(2)]
    net = jx.Network(cells)
    jx.connect(net.cell(0).branch(0).comp(0), net.cell(1).branch(0).comp(0), IonotropicSynapse())
    with pytest.raises(
        ValueError, match=r"'IonotropicSynapse_gS' must be >= 0 \(µS\); got -1 at synapse 0"
    ):
        net.IonotropicSynapse.set("IonotropicSynapse_gS", -1.0)


def test_weights_of_current_based_synapses_may_be_negative():
    from dendrax.synapses import SpikeSynapse

    assert mechanism_ranges(SpikeSynapse())["SpikeSynapse_gS"].bounds() == ""
    cells = [jx.Cell(jx.Branch(jx.Compartment(), 1), parents=[-1]) for _ in range(2)]
    net = jx.Network(cells)
    jx.connect(net.cell(0).branch(0).comp(0), net.cell(1).branch(0).comp(0), SpikeSynapse())
    net.SpikeSynapse.set("SpikeSynapse_gS", -0.5)  # excitatory: no error
    np.testing.assert_array_equal(net.edges["SpikeSynapse_gS"].to_numpy(), [-0.5])


def test_set_negative_time_constant_by_convention():
    from dendrax.channels import Rate

    comp = jx.Compartment()
    comp.insert(Rate())
    with pytest.raises(ValueError, match=r"'Rate_tau' must be > 0 \(ms\); got 0"):
        comp.set("Rate_tau", 0.0)


# ------------------------------------------------------------------ trainables


def test_init_val_out_of_range():
    cell = _cell()
    with pytest.raises(ValueError, match=r"'HH_gNa' \(init_val\) must be >= 0; got -1 at compart"):
        cell.branch(1).make_trainable("HH_gNa", init_val=-1.0, verbose=False)
    assert cell.base._trainables == []


def test_write_trainables_out_of_range_writes_nothing():
    cell = _cell()
    cell.branch(1).make_trainable("radius", verbose=False)
    with pytest.raises(ValueError, match=r"'radius' in params\[0\] must be > 0 \(µm\); got -623"):
        cell.write_trainables([{"radius": jnp.array([-623.0])}])
    np.testing.assert_array_equal(cell.nodes["radius"].to_numpy(), np.ones(4))


def test_params_out_of_range_eager():
    cell = _cell()
    cell.branch(1).make_trainable("radius", verbose=False)
    with pytest.raises(
        ValueError, match=r"'radius' in params\[0\] must be > 0 \(µm\); got -623 at comp"
    ):
        jx.integrate(cell, params=[{"radius": jnp.array([-623.0])}], t_max=1.0)


@pytest.mark.parametrize("value", [np.nan, 0.0])
def test_params_under_jit_with_concrete_values_raise_at_trace_time(value):
    cell = _cell()
    cell.make_trainable("length", verbose=False)
    bad = [{"length": jnp.array([value])}]
    with pytest.raises(ValueError, match=r"'length' in params\[0\] must be (finite and )?> 0"):
        jax.jit(lambda: jx.integrate(cell, params=bad, t_max=1.0))()


# ------------------------------------------------------------------ data_set, stimuli, clamps


def test_data_set_concrete_out_of_range():
    cell = _cell()
    with pytest.raises(
        ValueError, match=r"'capacitance' \(data_set\) must be > 0 .*got -1 at comp"
    ):
        cell.branch(1).data_set("capacitance", -1.0, None)


def test_param_state_built_by_hand_is_checked_in_integrate():
    cell = _cell()
    pstate = [{"key": "axial_resistivity", "val": np.array(-5.0), "indices": np.array([3])}]
    with pytest.raises(ValueError, match=r"'axial_resistivity' in param_state\[0\].*compartment 3"):
        jx.integrate(cell, param_state=pstate, t_max=1.0)


def test_data_stimulate_nan_jax_array():
    cell = _cell()
    current = jnp.zeros(40).at[7].set(jnp.nan)
    with pytest.raises(ValueError, match="NaN or inf"):
        cell.branch(0).comp(0).data_stimulate(current)


def test_data_stimuli_built_by_hand_are_checked_in_integrate():
    cell = _cell()
    series = np.zeros((1, 40))
    series[0, 12] = np.inf
    stimuli = [("i", np.array([1]), series)]
    with pytest.raises(
        ValueError, match=r"must be finite \(nA\); got inf at compartment 1, time step 12"
    ):
        jx.integrate(cell, data_stimuli=stimuli, t_max=0.5)


def test_clamp_out_of_range():
    cell = _cell()
    with pytest.raises(
        ValueError,
        match=r"clamp of 'HH_m' must be in \[0, 1\]; got 1\.5 at compartment 0, time step 3",
    ):
        cell.branch(0).comp(0).clamp("HH_m", np.array([0.1, 0.2, 0.3, 1.5]))
    with pytest.raises(ValueError, match=r"clamp of 'v' must be in \(-1000, 1000\)"):
        cell.branch(0).comp(0).data_clamp("v", jnp.full(10, -2000.0))


def test_all_states_checked():
    cell = _cell()
    _, states = jx.integrate(cell, t_max=0.5, return_states=True)
    states = dict(states)
    states["HH_n"] = states["HH_n"].at[3].set(-0.5)
    with pytest.raises(
        ValueError, match=r"all_states\['HH_n'\] must be in \[0, 1\]; got -0\.5 at compartment 3"
    ):
        jx.integrate(cell, t_max=0.5, all_states=states)


def test_all_states_of_a_channel_in_part_of_the_cell():
    """States are NaN where their channel is not inserted: those rows are not checked."""
    cell = jx.Cell(jx.Branch(jx.Compartment(), 2), parents=[-1, 0])
    cell.branch(0).insert(HH())
    cell.branch(1).insert(Leak())
    cell.branch(1).comp(1).record(verbose=False)
    whole = np.asarray(jx.integrate(cell, t_max=2.0))
    first, states = jx.integrate(cell, t_max=1.0, return_states=True)
    assert np.isnan(np.asarray(states["HH_m"])[2:]).all()
    second = jx.integrate(cell, t_max=1.0, all_states=states)
    joined = np.concatenate([np.asarray(first), np.asarray(second)[:, 1:]], axis=1)
    np.testing.assert_allclose(joined, whole, rtol=0, atol=1e-10)
    states = {**states, "HH_m": states["HH_m"].at[1].set(np.nan)}
    with pytest.raises(
        ValueError, match=r"all_states\['HH_m'\] must be finite .* at compartment 1"
    ):
        jx.integrate(cell, t_max=1.0, all_states=states)


def test_valid_inputs_give_the_same_trace_as_before():
    """A passive compartment against the analytic RC charge (checks change nothing)."""
    comp = jx.Compartment()
    comp.insert(Leak())
    comp.set("Leak_eLeak", -70.0)
    comp.set("v", -70.0)
    comp.record(verbose=False)
    amp, dt, t_max = 0.01, 0.025, 10.0
    stim = comp.data_stimulate(jnp.full(int(t_max / dt) + 1, amp))
    v = np.asarray(jx.integrate(comp, data_stimuli=stim, t_max=t_max, delta_t=dt))[0]
    g = 1e-4  # S/cm²
    area = 2 * np.pi * 1.0 * 10.0 * 1e-8  # cm²
    tau = 1e-6 / g * 1e3  # ms (C = 1 µF/cm²)
    v_inf = amp * 1e-9 / (g * area) * 1e3  # mV
    t = np.arange(v.size) * dt
    np.testing.assert_allclose(v + 70.0, v_inf * (1 - np.exp(-t / tau)), atol=0.02 * v_inf)


# ------------------------------------------------------------------ blow-up message


def test_blow_up_message_advises_x64_only_when_it_is_off():
    assert "jax_enable_x64" not in blow_up_message(0, 3, 0.5, "fwd_euler", np.float64)
    previous = jax.config.jax_enable_x64
    try:
        jax.config.update("jax_enable_x64", False)
        assert "jax_enable_x64', True)" in blow_up_message(0, 3, 0.5, "fwd_euler", np.float32)
    finally:
        jax.config.update("jax_enable_x64", previous)


def test_blow_up_warning_eager_names_step():
    cell = jx.Cell(jx.Branch(jx.Compartment(), 4), parents=[-1, 0])
    cell.set("axial_resistivity", 1.0)
    cell.insert(HH())
    cell.branch(0).comp(0).record(verbose=False)
    v = np.asarray(jx.integrate(cell, t_max=20.0, delta_t=0.5, solver="fwd_euler", checks=False))
    step = int(np.flatnonzero(~np.isfinite(v[0]) | (np.abs(v[0]) > 1e9))[0])  # reference
    with pytest.warns(RuntimeWarning, match=rf"recording 0 .* from time step {step} on") as rec:
        jx.integrate(cell, t_max=20.0, delta_t=0.5, solver="fwd_euler")
    assert "jax_enable_x64" not in str(rec[0].message)  # x64 is on in the tests
