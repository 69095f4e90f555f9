"""Backward (implicit) Euler: first order, unconditionally stable (Jaxley's default)."""

from __future__ import annotations

from dataclasses import dataclass

from dendrax.solvers.implicit import implicit_coefficients, implicit_solve
from dendrax.solvers.interfaces import TimeScheme

__all__ = ["BackwardEuler"]


@dataclass(frozen=True)
class BackwardEuler(TimeScheme):
    """`v' = v + dt (drive - decay v' + G v')`, solved with the tree system."""

    name = "bwd_euler"
    order = 1
    implicit = True

    def step_size(self, dt):
        """The `h` of the implicit system (ms)."""
        return dt

    def prepare(self, structure, axial, dt):
        return implicit_coefficients(structure, axial, self.step_size(dt))

    def advance(self, structure, v, current, slope, i_ext, cm, axial, dt, linear_solver, prepared):
        h = self.step_size(dt)
        system = prepared if prepared is not None else self.prepare(structure, axial, dt)
        return implicit_solve(structure, v, current, slope, i_ext, cm, system, h, linear_solver)
