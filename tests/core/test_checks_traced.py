"""Traced values are checked at run time, under the caller's jit, grad and vmap (issue 21).

With the default `checks=True` an invalid value raises in a host callback, which JAX
re-raises as `jax.errors.JaxRuntimeError` (or `ValueError` on jit's fast path) carrying
dendrax's message; a blow-up warns.
"""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.experimental import checkify

import dendrax as jx
from dendrax.channels import HH
from dendrax.checks import RUN_TIME_ERRORS

T_MAX = 2.0


def _cell():
    """Two branches of two compartments (branch 1 holds compartments 2 and 3), HH."""
    cell = jx.Cell(jx.Branch(jx.Compartment(), 2), parents=[-1, 0])
    cell.insert(HH())
    cell.branch(0).comp(0).record(verbose=False)
    return cell


def _trained(key="radius"):
    cell = _cell()
    cell.branch(1).make_trainable(key, verbose=False)
    return cell


def _transforms(fn):
    """`fn` under jit, grad (of the sum) and jit of grad."""
    total = lambda *a: jnp.sum(fn(*a))  # noqa: E731
    return {"jit": jax.jit(fn), "grad": jax.grad(total), "jit_grad": jax.jit(jax.grad(total))}


@pytest.mark.parametrize("how", ["jit", "grad", "jit_grad"])
def test_negative_radius_through_params(how):
    cell = _trained("radius")
    fn = _transforms(lambda p: jx.integrate(cell, params=p, t_max=T_MAX))[how]
    with pytest.raises(
        RUN_TIME_ERRORS,
        match=r"'radius' in params\[0\] must be > 0 \(µm\); got -623 at compartment 2",
    ):
        jax.block_until_ready(fn([{"radius": jnp.array([-623.0])}]))


@pytest.mark.parametrize("how", ["jit", "grad"])
def test_nan_conductance_through_params(how):
    cell = _trained("HH_gNa")
    fn = _transforms(lambda p: jx.integrate(cell, params=p, t_max=T_MAX))[how]
    with pytest.raises(RUN_TIME_ERRORS, match=r"'HH_gNa' in params\[0\] must be finite and >= 0"):
        jax.block_until_ready(fn([{"HH_gNa": jnp.array([jnp.nan])}]))


@pytest.mark.parametrize("how", ["jit", "grad"])
def test_data_set_traced(how):
    cell = _cell()

    def simulate(c):
        pstate = cell.branch(1).comp(1).data_set("capacitance", c, None)
        return jx.integrate(cell, param_state=pstate, t_max=T_MAX)

    fn = _transforms(simulate)[how]
    with pytest.raises(
        RUN_TIME_ERRORS,
        match=r"'capacitance' in param_state\[0\] \(data_set\) must be > 0 .*compartment 3",
    ):
        jax.block_until_ready(fn(jnp.asarray(-1.0)))


@pytest.mark.parametrize("how", ["jit", "grad"])
def test_nan_stimulus_under_transformation(how):
    cell = _cell()

    def simulate(current):
        stim = cell.branch(0).comp(1).data_stimulate(current)
        return jx.integrate(cell, data_stimuli=stim, t_max=T_MAX)

    current = jnp.zeros(81).at[17].set(jnp.nan)
    with pytest.raises(
        RUN_TIME_ERRORS,
        match=r"current of data_stimuli\[0\] must be finite \(nA\); got nan at compartment 1, "
        r"time step 17",
    ):
        jax.block_until_ready(_transforms(simulate)[how](current))


def test_traced_clamp_out_of_range():
    cell = _cell()

    def simulate(m):
        clamps = cell.branch(0).comp(0).data_clamp("HH_m", m)
        return jx.integrate(cell, data_clamps=clamps, t_max=T_MAX)

    m = jnp.full(81, 0.3).at[40].set(1.2)
    with pytest.raises(
        RUN_TIME_ERRORS, match=r"clamp of 'HH_m' .* must be in \[0, 1\]; got 1\.2 .*time step 40"
    ):
        jax.block_until_ready(jax.jit(simulate)(m))


def test_traced_time_step():
    cell = _cell()
    cell.branch(0).comp(0).stimulate(np.zeros(80), verbose=False)  # 80 steps, no t_max
    fn = jax.jit(lambda dt: jx.integrate(cell, delta_t=dt))
    with pytest.raises(RUN_TIME_ERRORS, match=r"delta_t must be > 0 \(ms\); got -0\.025"):
        jax.block_until_ready(fn(jnp.asarray(-0.025)))


def test_vmap_names_the_batch_element():
    cell = _trained("radius")
    fn = jax.jit(jax.vmap(lambda r: jx.integrate(cell, params=[{"radius": r}], t_max=T_MAX)))
    radii = jnp.array([[1.0], [2.0], [-3.0]])
    with pytest.raises(RUN_TIME_ERRORS, match=r"got -3 at compartment 2"):
        jax.block_until_ready(fn(radii))


def test_valid_values_under_jit_and_grad_match_eager():
    cell = _trained("radius")
    params = [{"radius": jnp.array([0.7])}]
    eager = jx.integrate(cell, params=params, t_max=T_MAX)
    runs = {
        checks: jax.jit(lambda p, c=checks: jx.integrate(cell, params=p, t_max=T_MAX, checks=c))(
            params
        )
        for checks in (True, False)
    }
    # The checks leave the result alone; the compiled run differs from the eager one only
    # by rounding (another fusion of the same operations).
    np.testing.assert_array_equal(np.asarray(runs[True]), np.asarray(runs[False]))
    np.testing.assert_allclose(np.asarray(runs[True]), np.asarray(eager), rtol=0, atol=1e-9)
    grad = jax.grad(lambda p: jnp.sum(jx.integrate(cell, params=p, t_max=T_MAX)))(params)
    assert np.all(np.isfinite(np.asarray(grad[0]["radius"])))


def _unstable_cell():
    cell = jx.Cell(jx.Branch(jx.Compartment(), 4), parents=[-1, 0])
    cell.set("axial_resistivity", 1.0)
    cell.insert(HH())
    cell.branch(0).comp(0).record(verbose=False)
    return cell


def _unstable_run(cell, checks):
    return jx.integrate(cell, t_max=20.0, delta_t=0.5, solver="fwd_euler", checks=checks)


def _blow_up_step(recordings):
    """Reference: the first step where an unchecked recording is invalid."""
    v = np.asarray(recordings)
    return int(np.flatnonzero((~np.isfinite(v) | (np.abs(v) > 1e9)).any(axis=0))[0])


def test_blow_up_is_reported_under_jit():
    cell = _unstable_cell()
    # The reference is the same compiled run without checks (an unstable run amplifies the
    # rounding differences between compilations: the eager run may blow up a step later).
    step = _blow_up_step(jax.jit(lambda: _unstable_run(cell, False))())
    fn = jax.jit(lambda: _unstable_run(cell, True))
    with pytest.warns(
        RuntimeWarning, match=rf"blew up: recording 0 .* from time step {step} on"
    ) as rec:
        jax.block_until_ready(fn())
    assert "jax_enable_x64" not in str(rec[0].message)


def test_blow_up_is_reported_under_grad():
    cell = _unstable_cell()
    cell.make_trainable("HH_gK", verbose=False)

    def simulate(p, checks):
        return jx.integrate(
            cell, params=p, t_max=20.0, delta_t=0.5, solver="fwd_euler", checks=checks
        )

    params = cell.get_parameters()
    # Reference: the forward pass of the same differentiation, unchecked.
    recordings, _ = jax.vjp(lambda p: simulate(p, False), params)
    step = _blow_up_step(recordings)
    with pytest.warns(RuntimeWarning, match=rf"from time step {step} on"):
        jax.block_until_ready(jax.grad(lambda p: jnp.sum(simulate(p, True)))(params))


def test_blow_up_under_vmap_is_located_in_the_failing_element():
    # Element 0 (high axial resistivity) is stable with forward Euler, element 1 is not:
    # the warning must give element 1's first invalid step, found on the host.
    cell = _unstable_cell()
    cell.make_trainable("axial_resistivity", verbose=False)

    def run(r, checks):
        params = [{"axial_resistivity": r}]
        return jx.integrate(
            cell, params=params, t_max=20.0, delta_t=0.025, solver="fwd_euler", checks=checks
        )

    resistivities = jnp.array([[1e6], [1.0]])
    reference = np.asarray(jax.jit(jax.vmap(lambda r: run(r, False)))(resistivities))
    assert np.all(np.isfinite(reference[0])) and np.all(np.abs(reference[0]) < 1e9)
    step = _blow_up_step(reference[1])
    with pytest.warns(RuntimeWarning, match=rf"recording 0 .* from time step {step} on"):
        jax.block_until_ready(jax.jit(jax.vmap(lambda r: run(r, True)))(resistivities))


def test_checks_off_reports_nothing():
    cell = _trained("radius")
    fn = jax.jit(lambda p: jx.integrate(cell, params=p, t_max=T_MAX, checks=False))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = jax.block_until_ready(fn([{"radius": jnp.array([-623.0])}]))
    assert out.shape == (1, 81)


def test_checkify_mode_functionalizes_the_errors():
    cell = _trained("radius")

    def simulate(p):
        return jx.integrate(cell, params=p, t_max=T_MAX, checks="checkify")

    checked = checkify.checkify(jax.jit(simulate))
    err, _ = checked([{"radius": jnp.array([-623.0])}])
    message = err.get()
    assert message is not None
    assert "'radius' in params[0] must be finite and > 0 (µm); got -623" in message
    assert "at compartment 2" in message
    err, out = checked([{"radius": jnp.array([1.5])}])
    assert err.get() is None
    # Reference: the same user-level jit without checks. (An eager call compiles with
    # dendrax.compiler_options(), which may round differently in the last bit.)
    unchecked = jax.jit(lambda p: jx.integrate(cell, params=p, t_max=T_MAX, checks=False))
    np.testing.assert_array_equal(
        np.asarray(out), np.asarray(unchecked([{"radius": jnp.array([1.5])}]))
    )


def test_checkify_mode_reports_blow_up():
    cell = _unstable_cell()
    step = _blow_up_step(jax.jit(lambda: _unstable_run(cell, False))())
    fn = jax.jit(lambda: _unstable_run(cell, "checkify"))
    err, _ = checkify.checkify(fn)()
    assert f"from time step {step} on" in err.get()


def test_cached_jit_call_raises_too():
    """The second call of a jitted function takes jit's fast path (a plain ValueError)."""
    cell = _trained("radius")
    fn = jax.jit(lambda p: jx.integrate(cell, params=p, t_max=T_MAX))
    jax.block_until_ready(fn([{"radius": jnp.array([1.0])}]))
    with pytest.raises(RUN_TIME_ERRORS, match=r"'radius' in params\[0\] must be > 0"):
        jax.block_until_ready(fn([{"radius": jnp.array([-1.0])}]))


def test_checks_leave_the_gradient_unchanged():
    cell = _trained("radius")
    params = [{"radius": jnp.array([0.7])}]

    def grad(checks):
        def loss(p):
            return jnp.sum(jx.integrate(cell, params=p, t_max=T_MAX, checks=checks) ** 2)

        return np.asarray(jax.jit(jax.grad(loss))(params)[0]["radius"])

    np.testing.assert_array_equal(grad(True), grad(False))


def test_traced_params_through_the_step_api_init():
    """`build_init_and_step_fn`'s init_fn checks traced parameters when the computation
    runs (attached to the initial voltages), as `integrate` does."""
    from dendrax.integrate import build_init_and_step_fn

    cell = jx.Cell([jx.Branch(jx.Compartment(), 2)] * 3, parents=[-1, 0, 0])
    cell.insert(HH())
    cell.branch(1).make_trainable("radius", verbose=False)
    init_fn, _ = build_init_and_step_fn(cell)
    params = cell.get_parameters()
    first_v = jax.jit(lambda p: init_fn(p)[0]["v"])
    np.testing.assert_array_equal(np.asarray(first_v(params)[:6]), np.full(6, -70.0))
    bad = [{"radius": -623.0 * jnp.ones_like(params[0]["radius"])}]
    with pytest.raises(
        RUN_TIME_ERRORS,
        match=r"'radius' in params\[0\] must be > 0 \(µm\); got -623 at compartment 2",
    ):
        first_v(bad).block_until_ready()
