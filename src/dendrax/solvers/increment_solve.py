"""The implicit voltage system solved for the increment `v' - v`, as NEURON does.

For the system `A v' = b` of `implicit.implicit_solve` (compartments, then branch points),
`A (v' - v) = b - A v`, and in exact arithmetic `b - A v` is `membrane + axial`: the
membrane part `h (i_ext - I) / c` in compartment rows (0 at branch points) and the axial
currents `sum_j (-A_ij) (v_j - v_i)` over each node's tree neighbours j, summed from voltage
differences, so that a uniform voltage gives exactly no axial current. Branch points carry
no voltage between steps: each starts from a neighbouring compartment's (`guess` rows);
the system is exact for any start.

Why: in float64 the diagonal `1 + h s/c + h sum g` and its off-diagonals are rounded
separately, so the axial row sums are zero only in exact arithmetic. Solving for `v'`
itself, that mismatch times `v` (~65 mV) is the same small spurious current in every step;
on a spiking CA1 cell it moved traces by up to 1e-7 mV from an 80-bit reference over 100 ms
(`bench/extended_precision_reference.py`). Solving for the increment, the mismatch only
multiplies the increment: 1e-11 to 1e-9 mV from that reference.

On CPU with the compiled kernel (`tree.native`), the right-hand side and the solve are one
call (`tree_solve.cc`, `IncrementSolve`); elsewhere the sum is a gather and a scatter-add in
JAX and the linear solver is any registered one. Shapes: `v`, `membrane` (n_comp,);
`diag`, `upper`, `lower` (n_nodes,) as `implicit.implicit_coefficients`.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from dendrax.solvers import native_tree
from dendrax.solvers.tree import _matvec, _solve, _zero_at_roots
from dendrax.utils.jax_utils import scatter_add_static, take_static

__all__ = ["branch_point_guess_rows", "increment_rhs", "increment_solve"]


def branch_point_guess_rows(tree_parent: np.ndarray, n_comp: int) -> np.ndarray | None:
    """(n_bp,) compartment rows whose voltage each branch point starts from.

    The branch point's parent compartment, else (a root branch point) its first child
    compartment. None when some branch point has no compartment neighbour.
    """
    rows = np.full(tree_parent.size - n_comp, -1)
    for b in range(n_comp, tree_parent.size):
        parent = tree_parent[b]
        if 0 <= parent < n_comp:
            rows[b - n_comp] = parent
        else:
            children = np.flatnonzero(tree_parent[:n_comp] == b)
            if children.size:
                rows[b - n_comp] = children[0]
    return None if (rows < 0).any() else rows


def _axial(parent: np.ndarray, guess: np.ndarray, v, upper, lower):
    """The axial part of the right-hand side: bilinear in `v` and (`upper`, `lower`)."""
    nodes = jnp.concatenate([v, take_static(v, guess)]) if guess.size else v
    matrix_parent = np.where(parent >= 0, parent, 0)
    difference = take_static(nodes, matrix_parent) - nodes  # roots: upper = lower = 0
    return scatter_add_static(-upper * difference, matrix_parent, lower * difference)


def _padded(membrane, n_nodes: int):
    n_bp = n_nodes - membrane.shape[0]
    return jnp.concatenate([membrane, jnp.zeros(n_bp, membrane.dtype)]) if n_bp else membrane


def increment_rhs(tree_parent: np.ndarray, guess: np.ndarray, v, membrane, upper, lower):
    """(n_nodes,) `membrane + axial` (module docstring), in JAX."""
    return _padded(membrane, tree_parent.size) + _axial(tree_parent, guess, v, upper, lower)


def _native_call(order, links: np.ndarray, d, u, l, m, v):
    schedule, n_inner = native_tree._schedule(order)
    shape = jax.ShapeDtypeStruct(d.shape, d.dtype)
    work = jax.ShapeDtypeStruct((2 * d.shape[0],), d.dtype)
    call = jax.ffi.ffi_call(native_tree.INCREMENT_TARGETS[np.dtype(d.dtype)], (shape, work))
    x, _ = call(d, u, l, m, v, schedule.reshape(-1), links, n_inner=np.int64(n_inner))
    return x


def _native_increment(order, parent: np.ndarray, guess: np.ndarray, d, u, l, m, v):
    """The increment by the compiled kernel, differentiated like the tree solve."""
    # The kernel's links: each node's matrix parent (roots name themselves), then `guess`.
    links = np.concatenate([np.where(parent >= 0, parent, np.arange(parent.size)), guess])
    links = links.astype(np.int32)

    def batched_fallback(axis_size, in_batched, *args):
        axes = tuple(0 if batched else None for batched in in_batched)

        def one(d, u, l, m, v):
            return _solve(order, d, u, l, increment_rhs(parent, guess, v, m, u, l))

        return jax.vmap(one, in_axes=axes)(*args), True

    kernel = jax.custom_batching.custom_vmap(functools.partial(_native_call, order, links))
    kernel.def_vmap(batched_fallback)
    solve = jax.custom_batching.custom_vmap(functools.partial(native_tree._native_primal, order))
    solve.def_vmap(
        lambda axis_size, in_batched, *args: (
            jax.vmap(
                functools.partial(_solve, order),
                in_axes=tuple(0 if b else None for b in in_batched),
            )(*args),
            True,
        )
    )

    @jax.custom_jvp
    def increment(d, u, l, m, v):
        return kernel(d, u, l, m, v)

    @increment.defjvp
    def increment_jvp(primals, tangents):
        d, u, l, m, v = primals
        d_dot, u_dot, l_dot, m_dot, v_dot = tangents
        x = increment(d, u, l, m, v)
        rhs_dot = _padded(m_dot, parent.size) + _axial(parent, guess, v_dot, u, l)
        rhs_dot = rhs_dot + _axial(parent, guess, v, u_dot, l_dot)
        residual = rhs_dot - _matvec(order, d_dot, u_dot, l_dot, x)
        x_dot = jax.lax.custom_linear_solve(
            lambda y: _matvec(order, d, u, l, y),
            residual,
            solve=lambda _, c: solve(d, u, l, c),
            transpose_solve=lambda _, c: solve(d, _zero_at_roots(order, l), u, c),
        )
        return x, x_dot

    return increment(d, u, l, m, v)


def increment_solve(structure, guess, diag, upper, lower, membrane, v, linear_solver):
    """(n_nodes,) increment `v' - v` of the implicit system (module docstring).

    Args:
        guess: `branch_point_guess_rows(structure.tree_parent, structure.n_comp)`.
        diag, upper, lower: the system (`upper` zero at roots).
        membrane: (n_comp,) `h (i_ext - I) / c` (mV); v: (n_comp,) mV.
        linear_solver: a `LinearSolver`; `tree.native` with its kernel built solves in one
            compiled call.
    """
    dtype = jnp.result_type(diag, upper, lower, membrane, v)
    diag, upper, lower, membrane, v = (
        jnp.asarray(x, dtype) for x in (diag, upper, lower, membrane, v)
    )
    parent = np.asarray(structure.tree_parent)
    if (
        isinstance(linear_solver, native_tree.NativeTreeSolver)
        and np.dtype(dtype) in native_tree.INCREMENT_TARGETS
        and native_tree.native_available()
    ):
        return _native_increment(structure.tree, parent, guess, diag, upper, lower, membrane, v)
    rhs = increment_rhs(parent, guess, v, membrane, upper, lower)
    return linear_solver(structure, diag, upper, lower, rhs, True)
