"""Arguments of the wrong type give a clear TypeError / ValueError (issue 21)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dendrax as jx
from dendrax.channels import HH
from dendrax.checks.inputs import check_output_size


def _comp():
    comp = jx.Compartment()
    comp.insert(HH())
    comp.record(verbose=False)
    return comp


@pytest.mark.parametrize("dt", ["0.025", None, [0.025], True])
def test_delta_t_must_be_a_number(dt):
    with pytest.raises(TypeError, match=r"delta_t must be a number \(the time step in ms"):
        jx.integrate(_comp(), t_max=1.0, delta_t=dt)


def test_delta_t_as_numpy_or_jax_scalar_is_accepted():
    a = jx.integrate(_comp(), t_max=1.0, delta_t=np.float64(0.025))
    b = jx.integrate(_comp(), t_max=1.0, delta_t=jnp.asarray(0.025))
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert a.shape == (1, 41)


@pytest.mark.parametrize("t_max", ["100", [1.0]])
def test_t_max_must_be_a_number(t_max):
    with pytest.raises(TypeError, match=r"t_max must be a number \(duration in ms\)"):
        jx.integrate(_comp(), t_max=t_max)


def test_traced_t_max_is_refused_clearly():
    comp = _comp()
    with pytest.raises(TypeError, match="t_max sets the number of time steps"):
        jax.jit(lambda t: jx.integrate(comp, t_max=t))(1.0)


def test_traced_delta_t_with_t_max_is_refused_clearly():
    comp = _comp()
    with pytest.raises(TypeError, match="With a traced delta_t the number of steps"):
        jax.jit(lambda dt: jx.integrate(comp, t_max=1.0, delta_t=dt))(0.025)


def test_checkpoint_lengths_not_a_list():
    with pytest.raises(
        TypeError, match=r"checkpoint_lengths must be a list of positive integers.*got int 201"
    ):
        jx.integrate(_comp(), t_max=1.0, checkpoint_lengths=201)


def test_checkpoint_lengths_with_a_float_is_not_truncated():
    with pytest.raises(
        TypeError, match=r"checkpoint_lengths must hold integers; got float 2\.5 at position 0"
    ):
        jx.integrate(_comp(), t_max=1.0, checkpoint_lengths=[2.5, 100])


def test_checkpoint_lengths_empty_or_zero():
    with pytest.raises(ValueError, match="checkpoint_lengths must not be empty"):
        jx.integrate(_comp(), t_max=1.0, checkpoint_lengths=[])
    with pytest.raises(ValueError, match=r"positive integers; got \[0, 100\]"):
        jx.integrate(_comp(), t_max=1.0, checkpoint_lengths=[0, 100])


def test_checkpoint_lengths_numpy_integers_are_accepted():
    a = jx.integrate(_comp(), t_max=1.0, checkpoint_lengths=np.array([7, 6]))
    b = jx.integrate(_comp(), t_max=1.0)
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=0, atol=1e-12)


@pytest.mark.parametrize("states", [5, [1.0, 2.0], "v"])
def test_all_states_must_be_a_dict(states):
    with pytest.raises(
        TypeError, match=r"all_states must be the dict of states returned by integrate"
    ):
        jx.integrate(_comp(), t_max=1.0, all_states=states)


def test_return_states_must_be_bool():
    with pytest.raises(TypeError, match="return_states must be True or False; got str 'yes'"):
        jx.integrate(_comp(), t_max=1.0, return_states="yes")


def test_checks_option_values():
    with pytest.raises(
        ValueError, match=r"checks must be True, False or 'checkify'; got str 'raise'"
    ):
        jx.integrate(_comp(), t_max=1.0, checks="raise")


def test_huge_t_max_names_the_bytes():
    # 1e12 ms at 0.025 ms: 4e13 + 1 time points of one float64 recording, held twice.
    n_points = int(1e12 // 0.025 + 1) + 1
    expected = f"{2 * n_points * 8:,} bytes"
    with pytest.raises(ValueError, match=rf"would need {expected} \(1 recording\(s\) x") as info:
        jx.integrate(_comp(), t_max=1e12)
    assert "smaller t_max" in str(info.value)
    assert "all_states" in str(info.value)


def test_output_size_guard_threshold():
    check_output_size(10, 999, limit=2 * 10 * 1000 * 8)  # exactly fits
    with pytest.raises(
        ValueError, match=r"would need 160,160 bytes .* more than the 160,000 bytes"
    ):
        check_output_size(10, 1000, limit=160_000)


def test_simulator_run_checks_checkpoint_lengths_as_integrate_does():
    sim = jx.compile(_comp())
    with pytest.raises(TypeError, match=r"checkpoint_lengths must hold integers; got float 2\.5"):
        sim.run(t_max=1.0, checkpoint_lengths=[2.5, 100])
    with pytest.raises(ValueError, match="checkpoint_lengths must not be empty"):
        sim.run(t_max=1.0, checkpoint_lengths=[])
