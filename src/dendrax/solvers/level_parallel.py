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

Each step is three gathers, a scatter-add and a scatter-set over the nodes of the step,
whatever their number, so a cell of ~1,000 nodes takes ~10 steps per sweep instead of
~1,000 iterations. The matrices of the cable equation are (weakly) diagonally dominant
M-matrices, whose Schur complements are again such matrices, so the elimination is stable
in any order, float32 included.

How the loops over steps are staged (`loop`) changes compile and run time, not results:
"unrolled" traces every step with its own exact index arrays (compile time grows with the
number of steps); "scan" runs each sweep as one `lax.scan` over index tables padded to the
widest step (one step body to compile, but the padding multiplies the work, as the first
steps are by far the widest); "mixed" (the default) unrolls the few wide leading steps and
scans the rest, padded to at most `n` entries in all (`ContractionSchedule.padding_split`).
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

#: How the steps of the schedule are staged (see the module docstring).
LOOPS = ("mixed", "unrolled", "scan")

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


def _eliminate(state, nodes, parents, children, static=False):
    """Eliminate `nodes` (k,) from the tree matrix `state = (diag_rhs, upper_lower)`.

    `diag_rhs` and `upper_lower` are (n + 1, 2, ...) pairs of rows (the dummy row last),
    packed so that a step is two scatters. Returns the new state and the (k, ...)
    couplings `A[v, c]` of each node to its only child at this step, which
    back-substitution needs and the fill-in overwrites.

    With `static` the indices are numpy arrays of one step of the schedule (nodes with a
    child first): the dummy child is then left out of the scatters, so that a GPU does not
    serialize many atomic additions to one row.
    """
    db, ul = state
    n = db.shape[0] - 1
    k = np.count_nonzero(children < n) if static else children.shape[0]
    db_v, ul_v, ul_c = _get(db, nodes), _get(ul, nodes), _get(ul, children)
    d_v, b_v, u_v, l_v = db_v[:, 0], db_v[:, 1], ul_v[:, 0], ul_v[:, 1]
    u_c, l_c = ul_c[:, 0], ul_c[:, 1]  # 0 at the dummy child
    to_parent = l_v / d_v  # A[p, v] / A[v, v]: row p minus this times row v
    to_child = u_c[:k] / d_v[:k]  # A[c, v] / A[v, v], for the first k nodes
    targets = jnp.concatenate([parents, children[:k]])  # several nodes can share a parent
    update = [
        jnp.stack([-to_parent * u_v, -to_parent * b_v], axis=1),
        jnp.stack([-to_child * l_c[:k], -to_child * b_v[:k]], axis=1),
    ]
    db = db.at[targets].add(jnp.concatenate(update), mode=_IN_BOUNDS)
    # fill-in: c now couples to p (in tables, only the dummy child repeats; it gets zeros)
    fill = jnp.stack([-to_child * u_v[:k], -to_parent[:k] * l_c[:k]], axis=1)
    ul = ul.at[children[:k]].set(fill, mode=_IN_BOUNDS, unique_indices=static)
    return (db, ul), l_c


def _substitute(x, db, ul, nodes, parents, children, l_c, static=False):
    """`x` with `nodes` solved from their parents' and children's (already solved) values."""
    db_v, u_v = _get(db, nodes), _get(ul, nodes)[:, 0]
    x_v = (db_v[:, 1] - u_v * _get(x, parents) - l_c * _get(x, children)) / db_v[:, 0]
    return x.at[nodes].set(x_v, mode=_IN_BOUNDS, unique_indices=static)


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
    state = (jnp.stack([d, b], axis=1), jnp.stack([u, l], axis=1))
    split = {
        "unrolled": schedule.num_steps,
        "scan": 0,
        "mixed": schedule.padding_split(),
    }[loop]
    head = [tuple(a.astype(np.uint32) for a in step) for step in schedule.steps[:split]]
    tail = None
    if split < schedule.num_steps:
        tail = tuple(jnp.asarray(t.astype(np.uint32)) for t in schedule.padded_tables(split))
    couplings = []
    for step in head:
        state, l_c = _eliminate(state, *step, static=True)
        couplings.append(l_c)
    if tail is not None:
        state, tail_couplings = jax.lax.scan(lambda s, idx: _eliminate(s, *idx), state, tail)
    db, ul = state
    x = db[:, 1] / db[:, 0]  # the roots' solution; every other node is overwritten
    if tail is not None:
        x, _ = jax.lax.scan(
            lambda x, xs: (_substitute(x, db, ul, *xs), None),
            x,
            (*tail, tail_couplings),
            reverse=True,
        )
    for step, l_c in zip(reversed(head), reversed(couplings), strict=True):
        x = _substitute(x, db, ul, *step, l_c, static=True)
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


def level_parallel_solve(order: TreeOrder, diag, upper, lower, rhs, loop: str = "mixed"):
    """Solve `A x = rhs` for the tree matrix `A` of `order` by level-parallel elimination.

    Args:
        order: the forest, from `dendrax.solvers.tree.build_tree_order`.
        diag, upper, lower, rhs: (n,) arrays (layout of `dendrax.solvers.tree`); entries of
            `upper` and `lower` at roots are ignored.
        loop: "mixed", "unrolled" or "scan" (see the module docstring); the result is the
            same.

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
        loop: "mixed" (default), "unrolled" or "scan": how the steps are staged.
    """

    name = "level_parallel"
    loop: str = "mixed"

    def __post_init__(self):
        if self.loop not in LOOPS:
            raise ValueError(f"LevelParallelSolver loop must be one of {LOOPS}; got {self.loop!r}.")

    def solve(self, structure, diag, upper, lower, rhs, upper_zero_at_roots=False):
        return level_parallel_solve(structure.tree, diag, upper, lower, rhs, self.loop)

    def sequential_iterations(self, structure) -> int:
        # each step of elimination and of back-substitution, and the roots' division
        return 2 * contraction_schedule(structure.tree).num_steps + 1
