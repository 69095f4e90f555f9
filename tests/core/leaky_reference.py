"""Leaky single-compartment cells and their backward-Euler reference voltages (numpy)."""

import numpy as np

import dendrax as jx
from dendrax.channels import Leak


def leaky_cells(n_cells, e_leak, v0):
    """A network of `n_cells` one-compartment cells with `Leak` (`e_leak`, start `v0`, mV)."""
    cell = jx.Cell(jx.Branch(jx.Compartment(), ncomp=1), parents=[-1])
    net = jx.Network([cell] * n_cells)
    net.insert(Leak())
    net.set("Leak_eLeak", e_leak)
    net.set("v", v0)
    return net


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
