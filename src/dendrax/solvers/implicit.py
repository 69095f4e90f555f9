"""The implicit voltage system shared by backward Euler and Crank–Nicolson."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from dendrax.solvers.increment_solve import branch_point_guess_rows, increment_solve

__all__ = ["implicit_coefficients", "implicit_solve"]


def implicit_coefficients(structure, axial: dict, h) -> dict:
    """The parts of the implicit system `(I - h G) v' = ...` that are the same in every step.

    Args:
        axial: output of `axial_coefficients` (or `diffusion_coefficients`).
        h: implicit step size (ms): dt for backward Euler, dt/2 for Crank–Nicolson.

    Returns:
        (n_nodes,) arrays: `diag` the axial part of the diagonal, `upper` and `lower` the
        off-diagonals (see `dendrax.solvers.tree`; `upper` is 0 at roots). Compartment
        rows are scaled by `h`, branch-point rows (the current balance at a branch point)
        are not. Computed once per simulation, outside the time loop, so that neither the
        step nor its derivative repeats them; the row masks are numpy constants (of the
        coefficients' dtype) whenever `h` is a concrete number.
    """
    n = structure.n_comp
    has_parent = structure.tree_parent >= 0
    parent = np.where(has_parent, structure.tree_parent, 0)
    is_comp = np.arange(structure.n_nodes) < n
    if isinstance(h, int | float | np.number):
        row = np.where(is_comp, float(h), 1.0).astype(jnp.result_type(axial["diag"]))
    else:
        row = jnp.where(is_comp, h, 1.0)
    return {
        "diag": row * axial["diag"],
        "upper": -(row * has_parent).astype(row.dtype) * axial["child_row"],
        "lower": -row[parent] * axial["parent_row"],
    }


def _with_branch_points(values, n_bp: int, like):
    """(n_comp,) `values` followed by `n_bp` zeros for the branch-point nodes.

    `like` is any finite (n_nodes,) array. The result is `0 * like` with its first n_comp
    entries replaced: XLA's CPU backend emits a fused concatenation with zeros (a pad) as one
    loop with a branch per element, which LLVM does not vectorize, while an update of a
    buffer loops over the compartments only (a literal zero buffer would be folded back into
    a pad).
    """
    if not n_bp:
        return values
    return jax.lax.dynamic_update_slice_in_dim(0.0 * like, values, 0, axis=0)


def implicit_solve(structure, v, current, slope, i_ext, cm, system: dict, h, linear_solver):
    """(n_comp,) solution of `(1 + h s/c - h G) v' = v + h (s v - I + i_ext)/c`, with the
    current `I` linearized about `v` (slope `s`) and `system` from `implicit_coefficients`.

    The system is solved for the increment `v' - v`, with the axial currents of its
    right-hand side `h G v` summed from voltage differences along the edges
    (`sum_j g_ij (v_j - v_i)`), as NEURON does. Solving for `v'` itself, float64 rounding
    of the large diagonal `1 + h s/c + h sum g` against its off-diagonals (the axial row
    sums are zero only in exact arithmetic) acts, in every step alike, like a leak of
    ~1e-16 times the diagonal times `v`; on a spiking CA1 cell that drifted traces by up to
    1e-7 mV from an 80-bit reference over 100 ms, against 1e-11 to 1e-9 mV in increments
    (`bench/extended_precision_reference.py`; `dendrax.solvers.increment_solve`). Branch
    points, which carry no voltage between steps, start from a neighbouring compartment's
    (`branch_point_guess_rows`); their equation is exact for any start.
    """
    n = structure.n_comp
    n_bp = structure.n_nodes - n
    like = jax.lax.stop_gradient(system["diag"])
    diag = _with_branch_points(1.0 + h * slope / cm, n_bp, like) + system["diag"]
    guess = branch_point_guess_rows(structure.tree_parent, n) if n_bp else np.zeros(0, int)
    if guess is None or not structure.coupled:
        # Unconnected compartments, or a branch point between branch points: solve for v'.
        drive = (slope * v - current + i_ext) / cm
        rhs = _with_branch_points(v + h * drive, n_bp, like)
        return linear_solver(structure, diag, system["upper"], system["lower"], rhs, True)[:n]
    membrane = h * (i_ext - current) / cm
    increment = increment_solve(
        structure, guess, diag, system["upper"], system["lower"], membrane, v, linear_solver
    )
    return v + increment[:n]
