"""Level-parallel solve of tree (Hines) matrices in O(log n) sequential steps, for GPUs.

The matrix is described as in `dendrax.solvers.tree` (`diag`, `upper[i] = A[i, parent[i]]`,
`lower[i] = A[parent[i], i]`). `dendrax.solvers.tree` eliminates it node by node: one
dependent loop iteration per node and sweep, each at least one kernel step on a GPU. Here
every step of a precomputed schedule (`dendrax.solvers.level_schedule`, tree contraction)
eliminates a whole set of nodes at once, none of them neighbours of another, each with at
most one remaining child:

- a node `v` with parent `p` and (possibly) an only child `c` is removed; `p`'s and `c`'s
  diagonals and right-hand sides receive its Schur complement (a segment sum: several
  eliminated children can share a parent), and `c` is coupled to `p` directly (the fill-in
  of eliminating `v`, which keeps the matrix a tree matrix);
- after the last step only the roots are left, and back-substitution runs the steps in
  reverse: each node from its parent and child at the time of its elimination.

Each step is a few gathers, two scatter-adds and two scatter-sets over the nodes of the
step, whatever their number, so a cell of ~1,000 nodes takes ~10 steps per sweep instead of
~1,000 iterations. The matrices of the cable equation are (weakly) diagonally dominant
M-matrices, whose Schur complements are again such matrices, so the elimination is stable
in any order, float32 included.

The loops over steps are unrolled at trace time (`loop="unrolled"`, the default: each step
has its own exact index arrays) or a `lax.scan` over index tables padded to the widest step
(`loop="scan"`, for very deep schedules: compile time independent of the number of steps).
Node index `n` is a dummy row (diagonal 1, everything else 0) that stands for "no child"
and pads the tables.

The derivative is the tree solver's (`tree.implicit_tree_solve`): implicit, one more
level-parallel solve per mode (with the transposed matrix in reverse mode).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from dendrax.solvers.interfaces import LinearSolver
from dendrax.solvers.level_schedule import ContractionSchedule, build_contraction_schedule
from dendrax.solvers.tree import TreeOrder, implicit_tree_solve

__all__ = ["LOOPS", "contraction_schedule", "level_parallel_solve", "LevelParallelSolver"]

#: How the steps of the schedule are staged: unrolled, or one `lax.scan` per sweep.
LOOPS = ("unrolled", "scan")

_IN_BOUNDS = jax.lax.GatherScatterMode.PROMISE_IN_BOUNDS


@functools.lru_cache(maxsize=64)
def contraction_schedule(order: TreeOrder) -> ContractionSchedule:
    """The `build_contraction_schedule` of the forest of `order` (cached per order)."""
    n = order.num_nodes
    parent = order.parent[:n]
    return build_contraction_schedule(np.where(parent == n, -1, parent))


def _get(x, rows):
    """`x[rows]` for in-range unsigned rows (numpy or traced): no negative-index fix-up."""
    return x.at[rows].get(mode=_IN_BOUNDS)


def _eliminate(state, nodes, parents, children):
    """Eliminate `nodes` (k,) from the tree matrix `state = (diag, rhs, upper, lower)`.

    All arrays are (n + 1, ...) with the dummy row last. Returns the new state and the
    (k, ...) couplings `A[v, c]` of each node to its only child at this step, which
    back-substitution needs and the fill-in overwrites.
    """
    d, b, u, l = state
    d_v, b_v, u_v, l_v = (_get(x, nodes) for x in (d, b, u, l))
    u_c, l_c = _get(u, children), _get(l, children)  # 0 at the dummy child
    to_parent = l_v / d_v  # A[p, v] / A[v, v]: row p minus this times row v
    to_child = u_c / d_v  # A[c, v] / A[v, v]
    targets = jnp.concatenate([parents, children])
    d = d.at[targets].add(jnp.concatenate([-to_parent * u_v, -to_child * l_c]), mode=_IN_BOUNDS)
    b = b.at[targets].add(jnp.concatenate([-to_parent * b_v, -to_child * b_v]), mode=_IN_BOUNDS)
    # fill-in: c now couples to p (only the dummy child repeats, and it receives zeros)
    u = u.at[children].set(-to_child * u_v, mode=_IN_BOUNDS)
    l = l.at[children].set(-to_parent * l_c, mode=_IN_BOUNDS)
    return (d, b, u, l), l_c


def _substitute(x, d, b, u, nodes, parents, children, l_c):
    """`x` with `nodes` solved from their parents' and children's (already solved) values."""
    x_v = (_get(b, nodes) - _get(u, nodes) * _get(x, parents) - l_c * _get(x, children)) / _get(
        d, nodes
    )
    return x.at[nodes].set(x_v, mode=_IN_BOUNDS)


def _solve_rows(schedule: ContractionSchedule, loop: str, diag, upper, lower, rhs):
    """Solve with (n, ...) arguments, the node axis first (trailing axes ride along)."""
    n = schedule.num_nodes

    def with_dummy(x, value):
        return jnp.concatenate([x, jnp.full((1,) + x.shape[1:], value, x.dtype)])

    dtype = jnp.result_type(diag, upper, lower, rhs)
    shape = jnp.broadcast_shapes(diag.shape, upper.shape, lower.shape, rhs.shape)
    d, u, l, b = (
        with_dummy(jnp.broadcast_to(x, shape).astype(dtype), value)
        for x, value in ((diag, 1.0), (upper, 0.0), (lower, 0.0), (rhs, 0.0))
    )
    state = (d, b, u, l)
    if loop == "scan":
        tables = tuple(jnp.asarray(t.astype(np.uint32)) for t in schedule.padded)
        state, couplings = jax.lax.scan(lambda s, idx: _eliminate(s, *idx), state, tables)
        d, b, u, _ = state
        x, _ = jax.lax.scan(
            lambda x, xs: (_substitute(x, d, b, u, *xs), None),
            b / d,  # the roots' solution; every other node is overwritten
            (*tables, couplings),
            reverse=True,
        )
        return x[:n]
    steps = [tuple(a.astype(np.uint32) for a in step) for step in schedule.steps]
    couplings = []
    for step in steps:
        state, l_c = _eliminate(state, *step)
        couplings.append(l_c)
    d, b, u, _ = state
    x = b / d
    for step, l_c in zip(reversed(steps), reversed(couplings), strict=True):
        x = _substitute(x, d, b, u, *step, l_c)
    return x[:n]


def _solve(schedule: ContractionSchedule, loop: str, diag, upper, lower, rhs):
    """`_solve_rows`; under `vmap` the batch becomes a trailing axis, so that every gather
    and scatter moves whole rows (one contiguous batch vector per node)."""

    @jax.custom_batching.custom_vmap
    def solve(d, u, l, b):
        return _solve_rows(schedule, loop, d, u, l, b)

    @solve.def_vmap
    def _solve_batched(axis_size, in_batched, d, u, l, b):
        args = (
            jnp.moveaxis(x, 0, -1) if batched else x[..., None]
            for x, batched in zip((d, u, l, b), in_batched, strict=True)
        )
        full = (jnp.broadcast_to(x, x.shape[:-1] + (axis_size,)) for x in args)
        return jnp.moveaxis(_solve_rows(schedule, loop, *full), -1, 0), True

    return solve(diag, upper, lower, rhs)


def level_parallel_solve(order: TreeOrder, diag, upper, lower, rhs, loop: str = "unrolled"):
    """Solve `A x = rhs` for the tree matrix `A` of `order` by level-parallel elimination.

    Args:
        order: the forest, from `dendrax.solvers.tree.build_tree_order`.
        diag, upper, lower, rhs: (n,) arrays (layout of `dendrax.solvers.tree`); entries of
            `upper` and `lower` at roots are ignored.
        loop: "unrolled" or "scan" (see the module docstring); the result is the same.

    Returns:
        (n,) solution, differentiable in forward and reverse mode (implicit derivative,
        `dendrax.solvers.tree.implicit_tree_solve`) and batchable with `vmap`.
    """
    if loop not in LOOPS:
        raise ValueError(f"loop must be one of {LOOPS}; got {loop!r}.")
    schedule = contraction_schedule(order)
    return implicit_tree_solve(
        order,
        functools.partial(_solve, schedule, loop),
        # A^T: the coupling of a child into its parent's row becomes the child's `upper`
        lambda d, u, l, b: _solve(schedule, loop, d, l, u, b),
        diag,
        upper,
        lower,
        rhs,
    )


@dataclass(frozen=True)
class LevelParallelSolver(LinearSolver):
    """Tree-contraction elimination (`level_parallel_solve`): O(n) work in O(log n)
    sequential steps; built for GPUs, where each sequential step costs a kernel launch.

    Attributes:
        loop: "unrolled" (default) or "scan", how the steps are staged.
    """

    name = "level_parallel"
    loop: str = "unrolled"

    def __post_init__(self):
        if self.loop not in LOOPS:
            raise ValueError(f"LevelParallelSolver loop must be one of {LOOPS}; got {self.loop!r}.")

    def solve(self, structure, diag, upper, lower, rhs, upper_zero_at_roots=False):
        return level_parallel_solve(structure.tree, diag, upper, lower, rhs, self.loop)

    def sequential_iterations(self, structure) -> int:
        # each step of elimination and of back-substitution, and the roots' division
        return 2 * contraction_schedule(structure.tree).num_steps + 1
