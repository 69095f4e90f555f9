"""Dense linear algebra on the cable matrix: a direct dense solve and exponential Euler.

The tree matrix is described as in `dendrax.solvers.tree`: for every node `i` with parent
`p = parent[i]` (-1 for roots), `diag[i] = A[i, i]`, `upper[i] = A[i, p]` and
`lower[i] = A[p, i]`. These helpers assemble it densely, O(n²) memory: meant for small
models, as a reference for the tree solver, and for exponential Euler (which needs the
dense matrix exponential anyway).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from dendrax.solvers.interfaces import LinearSolver

__all__ = [
    "tree_to_dense",
    "dense_solve",
    "coupling_matrix",
    "transition_matrix",
    "exp_euler_step",
    "DenseSolver",
]


def tree_to_dense(parent: np.ndarray, diag, upper, lower):
    """The (n, n) matrix of a tree description (all arguments (n,); `parent` numpy int)."""
    parent = np.asarray(parent)
    n = parent.shape[0]
    child = np.flatnonzero(parent >= 0)
    par = parent[child]
    a = jnp.zeros((n, n), dtype=jnp.result_type(diag, upper, lower))
    a = a.at[np.arange(n), np.arange(n)].set(diag)
    a = a.at[child, par].add(upper[child])
    return a.at[par, child].add(lower[child])


def dense_solve(parent: np.ndarray, diag, upper, lower, rhs):
    """Solve `A x = rhs` by LU (`jnp.linalg.solve`) on the assembled dense matrix.

    Args:
        parent: (n,) numpy int, -1 for roots. diag, upper, lower, rhs: (n,) arrays.

    Returns:
        (n,) solution; differentiable and batchable like any `jnp.linalg.solve`.
    """
    return jnp.linalg.solve(tree_to_dense(parent, diag, upper, lower), rhs)


def coupling_matrix(parent: np.ndarray, n_comp: int, child_row, parent_row, diag):
    """Dense (n_comp, n_comp) coupling `G` of `dV/dt = G V` with branchpoints eliminated.

    The nodes are `n_comp` compartments followed by zero-capacitance branchpoints. The
    coefficients are those of `dendrax.simulator.step.axial_coefficients` (1/ms in
    compartment rows, conductance weights in branchpoint rows). A branchpoint's value is
    the weighted mean of its neighbours, `V_b = Σ_k w_k V_k / Σ_k w_k`, so its coupling is
    redistributed onto those neighbours (a Schur complement; branchpoints are never
    adjacent to each other).
    """
    full = tree_to_dense(parent, -diag, child_row, parent_row)
    if full.shape[0] == n_comp:
        return full
    g_cc = full[:n_comp, :n_comp]
    g_cb = full[:n_comp, n_comp:]
    g_bc = full[n_comp:, :n_comp]
    return g_cc + (g_cb / diag[n_comp:][None, :]) @ g_bc


def transition_matrix(coupling, dt):
    """`expm(G dt)`: the (n, n) exact propagator of the passive coupling over `dt` ms."""
    return jax.scipy.linalg.expm(coupling * dt, max_squarings=16)


def exp_euler_step(x, dt, const, lin, transition):
    """One exponential-Euler (Lie–Trotter) step of `dx/dt = const - lin x + G x`.

    First the membrane part of every compartment is integrated exactly over `dt`
    (`x_inf = const/lin`, time constant `1/lin`; `x + dt const` where `lin == 0`), then the
    coupling is applied through `transition = expm(G dt)`.

    Args:
        x, const, lin: (n,) values (e.g. mV, mV/ms, 1/ms). transition: (n, n).
    """
    nonzero = lin != 0.0
    safe = jnp.where(nonzero, lin, 1.0)
    x_inf = const / safe
    exact = x_inf + (x - x_inf) * jnp.exp(-dt * safe)
    x = jnp.where(nonzero, exact, x + dt * const)
    return transition @ x


@dataclass(frozen=True)
class DenseSolver(LinearSolver):
    """LU of the assembled (n, n) matrix: O(n³), a reference for small models."""

    name = "dense"

    def solve(self, structure, diag, upper, lower, rhs, upper_zero_at_roots=False):
        return dense_solve(structure.tree_parent, diag, upper, lower, rhs)

    def sequential_iterations(self, structure) -> int:
        # LU's pivot steps run one after another, each a vectorized row update
        return 2 * int(structure.n_nodes)
