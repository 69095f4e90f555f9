"""The two kinds of solver objects a simulation is compiled with.

A `TimeScheme` advances the cable equation (or an intracellular diffusion) by one step; a
`LinearSolver` solves the tree-structured system that implicit schemes set up. Both are
small frozen dataclasses: hashable, so a compiled `Simulator` holds them as static data,
and registered by name in `dendrax.solvers.registry`.

The structures they receive are `dendrax.simulator.structure.Structure` objects, used only
through their attributes (`n_comp`, `n_nodes`, `tree`, `tree_parent`, `coupled`) so that
this package imports nothing of the simulator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

__all__ = ["LinearSolver", "TimeScheme"]


@dataclass(frozen=True)
class LinearSolver:
    """Solves `A x = b` for the (n_nodes, n_nodes) tree matrix of a compiled structure.

    The matrix is described as in `dendrax.solvers.tree`: `diag[i] = A[i, i]`,
    `upper[i] = A[i, parent[i]]`, `lower[i] = A[parent[i], i]`, all (n_nodes,) arrays.
    Implementations must be differentiable (forward and reverse mode) and batchable.
    """

    name: ClassVar[str] = ""

    def solve(self, structure, diag, upper, lower, rhs, upper_zero_at_roots: bool = False):
        """(n_nodes,) solution; `upper_zero_at_roots`: the caller guarantees upper = 0 there."""
        raise NotImplementedError

    def sequential_iterations(self, structure) -> int:
        """Dependent loop iterations of one solve: the latency proxy a CPU can measure."""
        raise NotImplementedError

    def __call__(self, structure, diag, upper, lower, rhs, upper_zero_at_roots: bool = False):
        if not structure.coupled:  # unconnected compartments: a diagonal system
            return rhs / diag
        return self.solve(structure, diag, upper, lower, rhs, upper_zero_at_roots)


@dataclass(frozen=True)
class TimeScheme:
    """One step of `c dv/dt = -I(v) + i_ext + axial coupling` (units of `voltage_step`).

    Attributes:
        name: the `solver=` name users pass (Jaxley's).
        order: order of accuracy in `delta_t` (of the voltage equation).
        implicit: the scheme solves the tree system each step (with a `LinearSolver`);
            its step-invariant part is prepared once per run by `prepare`.
        uses_transition: the scheme needs the dense propagators `expm(G dt)` (prepared
            once per run, or supplied by `customize_solver_exp_euler`).
    """

    name: ClassVar[str] = ""
    order: ClassVar[int] = 1
    implicit: ClassVar[bool] = False
    uses_transition: ClassVar[bool] = False

    def prepare(self, structure, axial: dict, dt):
        """What every step reuses (numpy in, numpy out; else jnp), or None."""
        return None

    def advance(
        self, structure, v, current, slope, i_ext, cm, axial: dict, dt, linear_solver, prepared
    ):
        """The state after one step.

        Args:
            v: (n_comp,) state at the start of the step (mV, or mM for an ion).
            current: (n_comp,) membrane current at `v` (µA/cm²; for an ion the flux
                `-d[c]/dt`, mM/ms); `slope`: (n_comp,) its derivative in `v`.
            i_ext: (n_comp,) injected current density (µA/cm²; 0 for an ion).
            cm: (n_comp,) capacitance (µF/cm²), 1 for an ion.
            axial: coupling coefficients (`dendrax.simulator.step.axial_coefficients`).
            prepared: output of `prepare` for these coefficients, or None.
        """
        raise NotImplementedError
