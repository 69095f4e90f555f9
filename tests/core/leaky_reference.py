"""Reference voltages of a leaky compartment under backward Euler, in numpy."""

import numpy as np


def backward_euler_leak(v0, g_leak, e_leak, n_steps, dt, cm=1.0, i_density=0.0):
    """(n_steps + 1,) mV of `C dv/dt = g (E - v) + i`, stepped by backward Euler.

    `v[k+1] = (v[k] + dt (g E + i) / C) / (1 + dt g / C)`, with `g_leak` in S/cm² (converted
    to mS/cm²), `e_leak` and `v0` in mV, `cm` in µF/cm², `i_density` in µA/cm², `dt` in ms.
    """
    g = g_leak * 1e3
    v = np.empty(n_steps + 1)
    v[0] = v0
    for k in range(n_steps):
        v[k + 1] = (v[k] + dt * (g * e_leak + i_density) / cm) / (1 + dt * g / cm)
    return v
