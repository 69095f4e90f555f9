"""Injected currents against the exact backward-Euler recurrence of passive compartments.

A few stimuli are added as masked vectors and many through a scatter-add
(`dendrax.simulator.run.FEW_STIMULI`); both paths, and several stimuli on one compartment
(which must add up), are checked against the closed-form update of a leaky compartment:
`v[k+1] = (v[k] + dt (g E + i) / C) / (1 + dt g / C)` (units: g in mS/cm², i in µA/cm²).
"""

import jax
import numpy as np
import pytest

import dendrax as jx
from dendrax.simulator.run import FEW_STIMULI

from .leaky_reference import backward_euler_leak, leaky_cells

jax.config.update("jax_enable_x64", True)

DT, T_MAX, G_LEAK, E_LEAK, V0 = 0.025, 5.0, 1e-4, -70.0, -65.0
LENGTH, RADIUS, CM = 10.0, 1.0, 1.0
NA_PER_UM2_TO_UA_PER_CM2 = 1e5


def _expected(amplitude_na, n_steps):
    """Backward-Euler voltages (n_steps + 1,) of one leaky compartment under a constant current."""
    area = 2 * np.pi * RADIUS * LENGTH  # µm²
    i_density = amplitude_na * NA_PER_UM2_TO_UA_PER_CM2 / area  # µA/cm²
    return backward_euler_leak(V0, G_LEAK, E_LEAK, n_steps, DT, CM, i_density)


def _network(n_cells):
    net = leaky_cells(n_cells, E_LEAK, V0)
    net.set("Leak_gLeak", G_LEAK)
    return net


@pytest.mark.parametrize(
    "targets",
    [
        [0],
        [1, 3, 4],  # masked vectors
        [0, 2, 2, 5],  # two stimuli on cell 2 add up (masked vectors)
        [0, 1, 2, 3, 4, 5, 6, 6],  # scatter-add, with a repeated compartment
    ],
)
def test_injected_currents_match_backward_euler(targets):
    n_cells = 8
    net = _network(n_cells)
    n_samples = int(T_MAX // DT) + 2
    amplitudes = {}
    for k, cell in enumerate(targets):
        amp = 0.01 * (k + 1)
        net.cell(cell).branch(0).comp(0).stimulate(np.full(n_samples, amp), verbose=False)
        amplitudes[cell] = amplitudes.get(cell, 0.0) + amp
    net.cell("all").branch(0).comp(0).record("v", verbose=False)
    if len(targets) > FEW_STIMULI:
        assert len(set(targets)) < len(targets)  # the scatter path also sums repeats

    traces = np.asarray(jx.integrate(net, t_max=T_MAX, delta_t=DT))

    n_steps = traces.shape[1] - 1
    for cell in range(n_cells):
        expected = _expected(amplitudes.get(cell, 0.0), n_steps)
        np.testing.assert_allclose(traces[cell], expected, rtol=0, atol=1e-9)
    # The stimulated cells did move away from rest (the test is not vacuous).
    assert all(abs(traces[c, -1] - traces[c, 0]) > 0.05 for c in amplitudes)
