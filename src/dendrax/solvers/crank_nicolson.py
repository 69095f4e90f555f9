"""Crank–Nicolson: second order in the voltage equation, as a backward half step and an
extrapolation (`v' = 2 v_half - v`)."""

from __future__ import annotations

from dataclasses import dataclass

from dendrax.solvers.implicit import implicit_coefficients, implicit_solve
from dendrax.solvers.interfaces import TimeScheme

__all__ = ["CrankNicolson"]


@dataclass(frozen=True)
class CrankNicolson(TimeScheme):
    """Implicit half step of dt/2 with the tree system, then linear extrapolation."""

    name = "crank_nicolson"
    order = 2
    implicit = True

    def step_size(self, dt):
        """The `h` of the implicit system (ms): half the step."""
        return dt / 2.0

    def prepare(self, structure, axial, dt):
        return implicit_coefficients(structure, axial, self.step_size(dt))

    def advance(self, structure, v, current, slope, i_ext, cm, axial, dt, linear_solver, prepared):
        h = self.step_size(dt)
        system = prepared if prepared is not None else self.prepare(structure, axial, dt)
        half = implicit_solve(structure, v, current, slope, i_ext, cm, system, h, linear_solver)
        return 2.0 * half - v
