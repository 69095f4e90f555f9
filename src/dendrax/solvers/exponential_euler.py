"""Exponential Euler (Lie–Trotter): the membrane exactly per compartment, then the passive
coupling through its dense propagator `expm(G dt)`."""

from __future__ import annotations

from dataclasses import dataclass

from dendrax.solvers.dense import coupling_matrix, exp_euler_step, transition_matrix
from dendrax.solvers.interfaces import TimeScheme

__all__ = ["ExponentialEuler", "exp_euler_transition"]


def exp_euler_transition(structure, coefficients: dict, dt):
    """`expm(G dt)` (n_comp, n_comp) of the coupling in `coefficients`, branchpoints eliminated."""
    g = coupling_matrix(
        structure.tree_parent,
        structure.n_comp,
        coefficients["child_row"],
        coefficients["parent_row"],
        coefficients["diag"],
    )
    return transition_matrix(g, dt)


@dataclass(frozen=True)
class ExponentialEuler(TimeScheme):
    """Dense O(n²) per step: for small cells, and where Jaxley users ask for it."""

    name = "exp_euler"
    order = 1
    uses_transition = True

    def prepare(self, structure, axial, dt):
        return exp_euler_transition(structure, axial, dt)

    def advance(self, structure, v, current, slope, i_ext, cm, axial, dt, linear_solver, prepared):
        transition = prepared if prepared is not None else self.prepare(structure, axial, dt)
        drive = (slope * v - current + i_ext) / cm
        return exp_euler_step(v, dt, drive, slope / cm, transition)
