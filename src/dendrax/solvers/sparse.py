"""Sparse direct solve of the cable matrix with `jax.experimental.sparse.linalg.spsolve`.

The tree matrix (described as in `dendrax.solvers.tree`: `diag`, `upper[i] = A[i, p]`,
`lower[i] = A[p, i]`) is assembled in CSR form; its sparsity pattern is numpy, built at
trace time. `spsolve` runs cuSPARSE on GPU and SciPy (through a host callback) on CPU.

`spsolve` has no batching rule, so the solve is wrapped in
`jax.custom_batching.sequential_vmap` (a batch becomes a loop of solves), and in
`lax.custom_linear_solve` so that gradients take one transposed solve.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from dendrax.solvers.interfaces import LinearSolver

__all__ = ["csr_pattern", "sparse_solve", "SparseSolver"]


def csr_pattern(parent: np.ndarray):
    """CSR indices of the tree matrix and the permutation taking its entries to CSR order.

    Entries are listed as `concat([diag (n,), upper[c], lower[c]])` over the non-root nodes
    `c`; `perm` orders them row-major.

    Returns:
        `(perm, indices, indptr, child)` numpy int arrays.
    """
    parent = np.asarray(parent)
    n = parent.shape[0]
    child = np.flatnonzero(parent >= 0)
    rows = np.concatenate([np.arange(n), child, parent[child]])
    cols = np.concatenate([np.arange(n), parent[child], child])
    perm = np.lexsort((cols, rows))
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))])
    return perm, cols[perm].astype(np.int32), indptr.astype(np.int32), child


@jax.custom_batching.sequential_vmap
def _spsolve(data, indices, indptr, b):
    # imported here: it pulls in scipy.sparse (~0.3 s), needed only by this solver
    from jax.experimental.sparse.linalg import spsolve

    return spsolve(data, indices, indptr, b)


def _csr_data(perm, child, diag, off_a, off_b):
    return jnp.concatenate([diag, off_a[child], off_b[child]])[perm]


def sparse_solve(parent: np.ndarray, diag, upper, lower, rhs):
    """Solve `A x = rhs` for the tree matrix `A` with a sparse direct (QR/LU) solver.

    Args:
        parent: (n,) numpy int parent of each node, -1 for roots.
        diag, upper, lower, rhs: (n,) arrays.

    Returns:
        (n,) solution.
    """
    perm, indices, indptr, child = csr_pattern(parent)

    data = _csr_data(perm, child, diag, upper, lower)
    data_t = _csr_data(perm, child, diag, lower, upper)  # the transposed matrix

    def matvec(x):
        out = diag * x + jnp.zeros_like(x).at[child].add(upper[child] * x[parent[child]])
        return out.at[parent[child]].add(lower[child] * x[child])

    return jax.lax.custom_linear_solve(
        matvec,
        rhs,
        solve=lambda _, b: _spsolve(data, indices, indptr, b),
        transpose_solve=lambda _, b: _spsolve(data_t, indices, indptr, b),
    )


@dataclass(frozen=True)
class SparseSolver(LinearSolver):
    """`jax.experimental.sparse` direct solve (cuSPARSE on GPU, SciPy on CPU)."""

    name = "sparse"

    def solve(self, structure, diag, upper, lower, rhs, upper_zero_at_roots=False):
        return sparse_solve(structure.tree_parent, diag, upper, lower, rhs)

    def sequential_iterations(self, structure) -> int:
        # a direct factorization of a tree has the elimination's dependency chain
        return 2 * int(structure.n_nodes)
