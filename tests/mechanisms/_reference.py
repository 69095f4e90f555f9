"""Independent numpy integration of a single compartment (same step order as dendrax).

Per step: gates advanced with v_n (exponential Euler / the mechanism's update), then the
membrane current and its finite-difference slope (δ = 1e-3 mV) at v_n, then one
backward-Euler voltage step with the injected current. Units: mV, ms, mA/cm², nA, µm.
"""

import numpy as np

AREA = 2 * np.pi * 1.0 * 10.0  # default compartment: radius 1 µm, length 10 µm (µm²)


def efun(x):
    return np.where(np.abs(x) < 1e-6, 1 - x / 2, x / np.expm1(np.where(x == 0, 1, x)))


def gate(x, dt, inf, tau):
    return inf + (x - inf) * np.exp(-dt / tau)


def simulate(step_states, current, states, v0, dt, t_max, amp, delay, dur, cm=1.0):
    """`step_states(states, v, dt) -> states`, `current(states, v) -> mA/cm²`.

    Returns the voltage trace (n_steps + 1,) and the list of state dicts.
    """
    n = int(round(t_max / dt))
    v = v0
    vs, trace = [v0], [dict(states)]
    for k in range(n):
        t = k * dt
        states = step_states(states, v, dt)
        i0 = current(states, v) * 1e3
        slope = (current(states, v + 1e-3) * 1e3 - i0) / 1e-3
        i_ext = amp * 1e5 / AREA if delay <= t < delay + dur else 0.0
        v = (v + dt * (slope * v - i0 + i_ext) / cm) / (1 + dt * slope / cm)
        vs.append(v)
        trace.append(dict(states))
    return np.array(vs), trace
