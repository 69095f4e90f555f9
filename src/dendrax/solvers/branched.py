"""Tree solve by branches: unbranched paths eliminated side by side, then the branch points.

The tree matrix (`dendrax.solvers.tree`) of a neuron is mostly chains: the compartments of
each branch, coupled only to their neighbours. `dendrax.solvers.branch_schedule` splits a
forest into such chains and the *kept* nodes (two or more children) between them. One
solve then

1. eliminates the nodes of every chain from its bottom up, all chains at once: one vector
   step per position along the longest chain. Eliminating a chain's nodes couples its top
   (the kept node above it) directly to its base (the kept node below it): the fill-in
   is carried along the sweep, so the kept nodes are left with a tree matrix of their own;
2. solves that reduced tree with the node-by-node `tree` solve (identical trees batched);
3. back-substitutes the chains from their heads down, all chains at once.

The sequential work per solve is two sweeps of the longest chain plus the reduced tree's
node-by-node solve, instead of every node twice; for a cell of many branches the rest is
vector arithmetic across branches. On XLA's CPU backend each of those vector steps is a
kernel of its own while the node-by-node loop is one, so there it is no faster than the
`tree` solver (a few per cent slower on the cells of `bench/bench_cpu_solve.py`); the fewer
dependent steps matter where each step is a kernel launch anyway (GPUs). Its derivative is
`tree_solve`'s implicit rule (`tree.implicit_primal_solve`): one more such solve, with the
transposed matrix in reverse mode. Under `vmap` the chain sweeps batch as vector
operations, and the reduced solve batches as `tree_solve` does.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from dendrax.solvers.branch_schedule import BranchSchedule, build_branch_schedule, order_iterations
from dendrax.solvers.chain_inverse import chain_inverse
from dendrax.solvers.interfaces import LinearSolver
from dendrax.solvers.tree import TreeOrder, _solve, implicit_primal_solve
from dendrax.utils.jax_utils import take_static

__all__ = ["BranchedSolver", "branch_schedule", "branched_solve"]

#: Chains up to this long are solved through their explicit inverse (`chain_inverse`, work
#: O(L^2) per chain); longer ones by sweeps along the chain.
MAX_CLOSED_FORM = 8
#: Chains up to this long are swept by unrolled steps (no loop); longer ones by a loop.
MAX_UNROLLED = 16


@functools.lru_cache(maxsize=64)
def branch_schedule(order: TreeOrder, keep_from: int | None = None) -> BranchSchedule:
    """The `BranchSchedule` of the forest of `order` (cached per order object)."""
    n = order.num_nodes
    parent = order.parent[:n]
    return build_branch_schedule(np.where(parent == n, -1, parent), keep_from)


def _padded(x, value):
    """`x` with one more row (the dummy node) holding `value`."""
    return jnp.concatenate([x, jnp.full((1,) + x.shape[1:], value, x.dtype)])


def _layout(schedule: BranchSchedule, x, pad_value):
    """(C, L, ...) chain entries and (K, ...) kept entries of an (n, ...) array."""
    if schedule.contiguous:
        cl = schedule.num_chains * schedule.length
        chains = x[:cl].reshape(schedule.chains.shape + x.shape[1:])
        return chains, x[cl:]
    flat = take_static(_padded(x, pad_value), schedule.chains.reshape(-1))
    return flat.reshape(schedule.chains.shape + x.shape[1:]), take_static(x, schedule.kept)


def _sweep(step, carry, columns, reverse: bool):
    """`step` over the columns (positions) of (C, L, ...) arrays, last column first if
    `reverse`; returns the final carry and the stacked (C, L, ...) outputs."""
    length = columns[0].shape[1]
    if length > MAX_UNROLLED:
        moved = tuple(jnp.moveaxis(x, 1, 0) for x in columns)
        carry, out = jax.lax.scan(step, carry, moved, reverse=reverse)
        return carry, tuple(jnp.moveaxis(y, 0, 1) for y in out)
    outs = [None] * length
    for j in reversed(range(length)) if reverse else range(length):
        carry, outs[j] = step(carry, tuple(x[:, j] for x in columns))
    return carry, tuple(jnp.stack(ys, axis=1) for ys in zip(*outs, strict=True))


def _base_rows(schedule: BranchSchedule, values, like):
    """(C, L, ...) array holding each chain's `values` (C, ...) at its bottom, else 0."""
    if np.all(schedule.bottom == schedule.length - 1):  # no padding: one column
        zeros = jnp.zeros_like(like[:, :-1])
        return jnp.concatenate([zeros, values[:, None]], axis=1)
    at_bottom = schedule.bottom[:, None] == np.arange(schedule.length)[None, :]
    at_bottom = at_bottom.reshape(at_bottom.shape + (1,) * (values.ndim - 1))
    return jnp.where(at_bottom, values[:, None], 0.0).astype(like.dtype)


def _eliminate(carry, column):
    """Eliminate one position of every chain (a node `j` with parent `p` and base `B`).

    The carry holds, per chain: the updates of node j's diagonal and right side from the
    node below it, the couplings `A[j, B]` and `A[B, j]` (fill-in of the nodes below), and
    the accumulated updates of the base's diagonal and right side.
    """
    d_up, b_up, a_jb, a_bj, d_base, b_base = carry
    diag, upper, lower, rhs, base_upper, base_lower = column
    inv = 1.0 / (diag + d_up)
    r = rhs + b_up
    a_jb = a_jb + base_lower  # the bottom node meets its base: A[j, B] = lower[B]
    a_bj = a_bj + base_upper
    f = lower * inv  # A[p, j] / pivot
    g = a_bj * inv  # A[B, j] / pivot
    carry = (-f * upper, -f * r, -f * a_jb, -g * upper, d_base - g * a_jb, b_base - g * r)
    return carry, (inv, r, a_jb)


def _eliminate_by_sweeps(schedule: BranchSchedule, d, u, l, b, base_upper, base_lower):
    """Chain elimination position by position (`_eliminate`): the six per-chain results
    (top's diagonal and right-side updates, `A[T, B]`, `A[B, T]`, base's updates) and the
    back-substitution `x(x_top, x_base) -> (C, L)`."""
    zero = jnp.zeros(b.shape[:1] + b.shape[2:], b.dtype)
    base_upper = _base_rows(schedule, base_upper, u)
    base_lower = _base_rows(schedule, base_lower, l)
    carry, (inv, r, a_jb) = _sweep(
        _eliminate, (zero,) * 6, (d, u, l, b, base_upper, base_lower), reverse=True
    )

    def substitute(x_top, x_base):
        def step(x_above, column):  # heads first: each node after the one above it
            inv_j, r_j, upper_j, a_jb_j = column
            x = (r_j - upper_j * x_above - a_jb_j * x_base) * inv_j
            return x, (x,)

        return _sweep(step, x_top, (inv, r, u, a_jb), reverse=False)[1][0]

    return carry, substitute


def _eliminate_by_inverse(schedule: BranchSchedule, d, u, l, b, base_upper, base_lower):
    """`_eliminate_by_sweeps` through the chains' explicit inverses `G` (`chain_inverse`):
    the Schur complement of the chains and their solution in closed form."""
    length = schedule.length
    g = chain_inverse(d, u, l)
    cols = range(length)
    g_b = [sum(g[j][m] * b[:, m] for m in cols) for j in cols]  # G b
    if np.all(schedule.bottom == length - 1):  # every base couples to the last column

        def g_base(j):  # (G a)_j for the base column a = lower[B] at the bottom
            return g[j][length - 1] * base_lower

        def at_base(values):  # sum_j A[B, j] values_j
            return base_upper * values[length - 1]

    else:
        at_bottom = [(schedule.bottom == j).astype(d.dtype) for j in cols]

        def g_base(j):
            return base_lower * sum(g[j][m] * at_bottom[m] for m in cols)

        def at_base(values):
            return base_upper * sum(values[j] * at_bottom[j] for j in cols)

    g_a = [g_base(j) for j in cols]
    head_lower, head_upper = l[:, 0], u[:, 0]  # A[T, head], A[head, T]
    carry = (
        -head_lower * head_upper * g[0][0],
        -head_lower * g_b[0],
        -head_lower * g_a[0],
        -at_base([g[j][0] for j in cols]) * head_upper,
        -at_base(g_a),
        -at_base(g_b),
    )

    def substitute(x_top, x_base):
        top = head_upper * x_top
        return jnp.stack([g_b[j] - g[j][0] * top - g_a[j] * x_base for j in cols], axis=1)

    return carry, substitute


def _branched_primal(schedule: BranchSchedule, diag, upper, lower, rhs):
    """Solve (n, ...) arrays (`upper` 0 at roots) with `schedule`."""
    d_chain, d_kept = _layout(schedule, diag, 1.0)
    u_chain, _ = _layout(schedule, upper, 0.0)
    l_chain, _ = _layout(schedule, lower, 0.0)
    b_chain, b_kept = _layout(schedule, rhs, 0.0)
    base_upper = take_static(_padded(upper, 0.0), schedule.base_node)
    base_lower = take_static(_padded(lower, 0.0), schedule.base_node)
    eliminate = (
        _eliminate_by_inverse if schedule.length <= MAX_CLOSED_FORM else _eliminate_by_sweeps
    )
    carry, substitute = eliminate(
        schedule, d_chain, u_chain, l_chain, b_chain, base_upper, base_lower
    )
    d_top, b_top, a_top_base, a_base_top, d_base, b_base = carry

    k = schedule.num_kept
    if k:
        above, below = schedule.above, schedule.below

        def reduced_entry(own, from_top, from_base):
            from_top = _padded(from_top, 0.0)
            total = own + take_static(_padded(from_base, 0.0), above)
            for column in below.T:  # the chains below each kept node (a few at most)
                total = total + take_static(from_top, column)
            return total

        def reduced_coupling(own, fill):
            source = jnp.concatenate([_padded(own, 0.0), fill])
            return take_static(source, schedule.reduced_source)

        x_kept = _solve(
            schedule.reduced,
            reduced_entry(d_kept, d_top, d_base),
            reduced_coupling(upper, a_base_top),
            reduced_coupling(lower, a_top_base),
            reduced_entry(b_kept, b_top, b_base),
        )
        x_padded = _padded(x_kept, 0.0)
        x_top = take_static(x_padded, schedule.top)
        x_base = take_static(x_padded, schedule.base)
    else:
        x_kept = jnp.zeros((0,) + rhs.shape[1:], rhs.dtype)
        x_top = x_base = jnp.zeros((schedule.num_chains,) + rhs.shape[1:], rhs.dtype)

    x_chains = substitute(x_top, x_base)
    x = jnp.concatenate([x_chains.reshape((-1,) + rhs.shape[1:]), x_kept])
    return x if schedule.contiguous else take_static(x, schedule.position)


def branched_solve(
    order: TreeOrder,
    diag,
    upper,
    lower,
    rhs,
    upper_zero_at_roots: bool = False,
    keep_from: int | None = None,
):
    """`tree_solve` computed by branches (module docstring): same arguments, same result
    and the same implicit derivative. `keep_from`: nodes from this index on are kept
    (`build_branch_schedule`)."""
    primal = functools.partial(_branched_primal, branch_schedule(order, keep_from))
    return implicit_primal_solve(order, primal, diag, upper, lower, rhs, upper_zero_at_roots)


@dataclass(frozen=True)
class BranchedSolver(LinearSolver):
    """Chains eliminated side by side, then the reduced tree node by node (`branched_solve`)."""

    name = "branched"

    def solve(self, structure, diag, upper, lower, rhs, upper_zero_at_roots=False):
        return branched_solve(
            structure.tree, diag, upper, lower, rhs, upper_zero_at_roots, structure.n_comp
        )

    def sequential_iterations(self, structure) -> int:
        schedule = branch_schedule(structure.tree, structure.n_comp)
        reduced = order_iterations(schedule.reduced) if schedule.num_kept else 0
        return 2 * schedule.length + reduced
