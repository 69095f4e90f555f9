"""Linear solve for tree-structured (Hines) matrices, with an implicit O(n) derivative.

The matrix `A` of a forest of `n` nodes is described by, for every node `i` with parent
`p = parent[i]`: the diagonal `diag[i] = A[i, i]`, `upper[i] = A[i, p]` (coupling of the parent
into the child's row) and `lower[i] = A[p, i]` (coupling of the child into the parent's row).
Roots have `upper = lower = 0`.

Elimination runs node by node from the deepest nodes to the roots (Hines order) inside a
`lax.fori_loop`, then back-substitution from the roots to the leaves: the loop body is a few
scalar operations, which XLA compiles to a tight loop on CPU, and compile time does not grow
with the size of the tree. (On CPU the level-parallel solver,
`dendrax.solvers.level_parallel`, is slower: each of its steps is several kernels; see
`bench/bench_cpu_solve.py`.) Identical trees of a forest (the cells of a network of
copies) are eliminated side by side (`dendrax.solvers.forest`): their
copies are packed `BATCH_CHUNK` to a row, and the packed trees are eliminated node by node
as one forest. The derivative
is a `custom_jvp` whose tangent solve goes through `lax.custom_linear_solve`: one more tree
solve (with the transposed matrix in reverse mode), traced only when differentiated.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jax.ad_checkpoint import checkpoint_name

from dendrax.solvers.forest import MIN_BATCHED_COPIES, contiguous_blocks, group_identical_trees
from dendrax.solvers.interfaces import LinearSolver
from dendrax.utils.jax_utils import scatter_add_static, take_static

__all__ = [
    "SOLUTION_NAME",
    "TreeOrder",
    "build_tree_order",
    "tree_solve",
    "implicit_tree_solve",
    "implicit_primal_solve",
    "tree_offdiag_matvec",
    "TreeSolver",
]

#: `jax.ad_checkpoint.checkpoint_name` of the solution inside the derivative rule of
#: `tree_solve`: a rematerialization policy that saves it (`dendrax.integrate` does) keeps
#: the backward pass from repeating the two O(n) sequential sweeps of the primal solve.
SOLUTION_NAME = "dendrax_tree_solution"


@dataclass(frozen=True, eq=False)
class TreeOrder:
    """Precomputed elimination order of a forest.

    Attributes:
        parent: (n + 1,) parent of every node; roots (and the entry `n` itself) hold `n`, a
            marker, not a node of the arrays being solved.
        levels: (n_levels, width) node indices per depth (deepest last), padded with `n`.
        groups: how the solve splits the forest: `(nodes (m, K), packed TreeOrder, blocks)`
            triples (see `dendrax.solvers.forest`; the order of the packed copies from
            `_chunked_order`; `blocks` from `contiguous_blocks`, or None); None means one
            sequential pass over all nodes.
    """

    parent: np.ndarray
    levels: np.ndarray
    groups: tuple | None = None

    @property
    def num_nodes(self) -> int:
        return int(self.parent.shape[0] - 1)


def build_tree_order(
    parent: np.ndarray,
    batch_identical_trees: bool = True,
    min_copies: int = MIN_BATCHED_COPIES,
) -> TreeOrder:
    """Group the nodes of a forest by depth (and its identical trees for batched solves).

    Args:
        parent: (n,) int parent of each node, -1 for roots. Must describe a forest.
        batch_identical_trees: solve identical trees side by side (see `TreeOrder.groups`).
        min_copies: batch a set of identical trees only if it has this many members.
    """
    parent = np.asarray(parent, dtype=np.int64)
    n = parent.shape[0]
    depth = np.full(n, -1, dtype=np.int64)
    depth[parent < 0] = 0
    frontier = np.flatnonzero(parent < 0)
    children_order = np.argsort(parent, kind="stable")
    sorted_parents = parent[children_order]
    d = 0
    while frontier.size:
        lo = np.searchsorted(sorted_parents, frontier, side="left")
        hi = np.searchsorted(sorted_parents, frontier, side="right")
        nxt = (
            np.concatenate([children_order[a:b] for a, b in zip(lo, hi, strict=True)])
            if (frontier.size)
            else np.zeros(0, np.int64)
        )
        d += 1
        depth[nxt] = d
        frontier = nxt
    if np.any(depth < 0):
        raise ValueError("The compartment graph contains a cycle or a dangling parent index.")
    n_levels = int(depth.max()) + 1 if n else 1
    counts = np.bincount(depth, minlength=n_levels)
    width = int(counts.max()) if n else 1
    levels = np.full((n_levels, width), n, dtype=np.int64)
    order = np.argsort(depth, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pos = np.arange(n) - np.repeat(starts, counts)
    levels[depth[order], pos] = order
    full_parent = np.concatenate([np.where(parent < 0, n, parent), [n]])
    groups = None
    if batch_identical_trees and n:
        split = group_identical_trees(parent, min_copies)
        whole = len(split) == 1 and np.array_equal(split[0].nodes[:, 0], np.arange(n))
        if not whole:
            groups = tuple(
                (
                    g.nodes,
                    _chunked_order(g.local_parent, g.nodes.shape[1]),
                    contiguous_blocks(g.nodes),
                )
                for g in split
            )
    return TreeOrder(parent=full_parent, levels=levels, groups=groups)


def _chunked_order(local_parent: np.ndarray, copies: int) -> TreeOrder:
    """Order of `ceil(copies / BATCH_CHUNK)` copies of one tree, solved as a single forest.

    A group of `K` identical trees is solved as a forest of `K / BATCH_CHUNK` trees whose
    node rows hold `BATCH_CHUNK` copies each (`_solve_group`): one loop small enough to be
    compiled into one kernel, instead of a loop over rows of `K` values that dispatches every
    operation separately (shorter compile, same results).
    """
    return _order_of_copies(local_parent, -(-copies // BATCH_CHUNK))


def _order_of_copies(parent: np.ndarray, copies: int) -> TreeOrder:
    """Order of a forest of `copies` copies of the forest `parent` (-1 for roots), numbered
    copy by copy, solved node by node (no batching of the copies)."""
    m = parent.shape[0]
    offsets = np.repeat(np.arange(copies) * m, m)
    tiled = np.tile(parent, copies)
    return build_tree_order(np.where(tiled < 0, -1, tiled + offsets), batch_identical_trees=False)


def _solve_group(order: TreeOrder, solve_fn, rows):
    """Solve a group's (m, K, ...) rows with `order` from `_chunked_order`.

    The copies axis is split into chunks of `BATCH_CHUNK` (the last one padded by repeating
    its last copy), and the chunks are laid out as the trees of one forest of
    `(m * n_chunks, BATCH_CHUNK, ...)` rows.
    """
    m, k = rows[0].shape[:2]
    if k == 1:
        return solve_fn(order, *rows)
    n_chunks = order.num_nodes // m
    pad = n_chunks * BATCH_CHUNK - k

    def to_forest(x):
        if pad:
            x = jnp.concatenate([x, jnp.repeat(x[:, -1:], pad, axis=1)], axis=1)
        x = jnp.moveaxis(x.reshape((m, n_chunks, BATCH_CHUNK) + x.shape[2:]), 0, 1)
        return x.reshape((n_chunks * m, BATCH_CHUNK) + x.shape[3:])

    x = solve_fn(order, *(to_forest(r) for r in rows))
    x = jnp.moveaxis(x.reshape((n_chunks, m, BATCH_CHUNK) + x.shape[2:]), 0, 1)
    return x.reshape((m, n_chunks * BATCH_CHUNK) + x.shape[3:])[:, :k]


def _solve_sequential(order: TreeOrder, diag, upper, lower, rhs):
    """Node-by-node elimination in a `fori_loop` (Hines order): fastest on CPU.

    Arguments are (n, ...) arrays, used as they are: no dummy node is appended, so that the
    producer of `diag` and `rhs` (the fused right-hand side of the voltage step) is not
    fused into a concatenation, which XLA's CPU backend would not vectorize. The loops index
    with precomputed, in-range int32 (node, parent) pairs (so no negative-index fix-up is
    staged: `allow_negative_indices=False`) and write the solution over the
    right-hand side, which keeps their bodies small (see `BATCH_CHUNK`). A root's pair
    names the root itself as its parent: its `upper` is 0 (`tree_solve` zeroes it), so its
    back-substitution is `b / d`.
    """
    n = order.num_nodes
    flat = order.levels[::-1].reshape(-1)
    elim = flat[flat < n]  # deepest nodes first, roots last
    n_elim = int(elim.shape[0])
    n_inner = n_elim - int(np.sum(order.parent[:n] == n))
    parent = order.parent[elim]
    parent = np.where(parent == n, elim, parent)  # a root reads itself, times upper = 0
    pairs = jnp.asarray(np.stack([elim, parent], axis=1).astype(np.int32))

    def start_of(x, i):  # start indices of row i, all of i's integer type
        return (i,) + (jnp.zeros((), jnp.result_type(i)),) * (x.ndim - 1)

    def row(x, i):  # x[i], staged as one dynamic_slice (no wrapper jit, no index fix-up)
        start = start_of(x, i)
        part = jax.lax.dynamic_slice(x, start, (1,) + x.shape[1:], allow_negative_indices=False)
        return jax.lax.squeeze(part, (0,))

    def put(x, value, i):  # x.at[i].set(value)
        start = start_of(x, i)
        value = jax.lax.expand_dims(value, (0,))
        return jax.lax.dynamic_update_slice(x, value, start, allow_negative_indices=False)

    def eliminate(i, carry):
        d, b = carry
        node, p = row(pairs, i)
        factor = row(lower, node) / row(d, node)
        d = put(d, row(d, p) - factor * row(upper, node), p)
        b = put(b, row(b, p) - factor * row(b, node), p)
        return d, b

    d, b = jax.lax.fori_loop(0, n_inner, eliminate, (diag, rhs))

    def substitute(i, x):  # parents are solved before their children, roots first
        node, p = row(pairs, n_elim - 1 - i)
        return put(x, (row(x, node) - row(upper, node) * row(x, p)) / row(d, node), node)

    return jax.lax.fori_loop(0, n_elim, substitute, b)


#: Batch columns solved per loop. XLA's CPU backend compiles a loop whose body touches less
#: than 1 KiB into one kernel ("small while loop"); with wider rows every iteration
#: dispatches its operations one by one, ~30x slower per node. Rows of 4 float64 stay below.
BATCH_CHUNK = 4


def _in_batch_chunks(solve_fn, args, batch):
    """`solve_fn(*args)` on (n, ..., batch) arrays, `BATCH_CHUNK` columns at a time.

    Arguments whose trailing axis is 1 (unbatched) are shared by every chunk; the chunks run
    in a `lax.map`.
    """
    if batch <= BATCH_CHUNK:
        return solve_fn(*args)
    n_chunks = -(-batch // BATCH_CHUNK)
    chunked = [x.shape[-1] == batch for x in args]

    def solve_chunk(parts):
        it = iter(parts)
        return solve_fn(*(next(it) if c else x for x, c in zip(args, chunked, strict=True)))

    parts = tuple(_split_columns(x, n_chunks) for x, c in zip(args, chunked, strict=True) if c)
    return _join_columns(jax.lax.map(solve_chunk, parts), batch)


def _split_columns(x, n_chunks):
    """(n, ..., batch) -> (n_chunks, n, ..., BATCH_CHUNK), the last chunk padded."""
    pad = n_chunks * BATCH_CHUNK - x.shape[-1]
    x = jnp.concatenate([x, jnp.repeat(x[..., -1:], pad, axis=-1)], axis=-1) if pad else x
    return jnp.moveaxis(x.reshape(x.shape[:-1] + (n_chunks, BATCH_CHUNK)), -2, 0)


def _join_columns(x, batch):
    """(n_chunks, n, ..., BATCH_CHUNK) -> (n, ..., batch): inverse of `_split_columns`."""
    x = jnp.moveaxis(x, 0, -2)
    return x.reshape(x.shape[:-2] + (x.shape[-2] * BATCH_CHUNK,))[..., :batch]


@functools.lru_cache(maxsize=64)
def _tiled_order(order: TreeOrder, copies: int) -> TreeOrder:
    """`_order_of_copies` for the forest of `order` (cached: traced once per vmap)."""
    n = order.num_nodes
    return _order_of_copies(np.where(order.parent[:n] == n, -1, order.parent[:n]), copies)


def _in_batch_chunks_as_forest(order: TreeOrder, args, batch):
    """Like `_in_batch_chunks` for an order without groups, with no loop over the chunks.

    The `n_chunks` chunks of `BATCH_CHUNK` columns are laid out as the trees of one forest
    of `n_chunks * n` rows (`_tiled_order`), solved by a single pair of sequential loops:
    the chunks' rows are contiguous, so splitting and joining are reshapes of the transposes
    a `lax.map` over chunks needs as well, without its per-chunk slicing, copies and kernel
    launches. Unbatched arguments are tiled once per chunk.
    """
    n = order.num_nodes
    if batch <= BATCH_CHUNK:
        return _solve_sequential(order, *args)
    n_chunks = -(-batch // BATCH_CHUNK)

    def to_forest(x):
        if x.shape[-1] == batch:
            x = _split_columns(x, n_chunks)
            return x.reshape((n_chunks * n,) + x.shape[2:])
        return jnp.tile(x, (n_chunks,) + (1,) * (x.ndim - 1))

    solved = _solve_sequential(_tiled_order(order, n_chunks), *(to_forest(x) for x in args))
    return _join_columns(solved.reshape((n_chunks, n) + solved.shape[1:]), batch)


def _rows(x, blocks, k):
    """(m, K, ...) rows of a group whose node table is made of `blocks` (no gather)."""
    parts = []
    for start, end, first in blocks:
        r = end - start
        part = x[first : first + k * r].reshape((k, r) + x.shape[1:])
        parts.append(jnp.moveaxis(part, 0, 1))
    return parts[0] if len(parts) == 1 else jnp.concatenate(parts)


def tree_offdiag_matvec(order: TreeOrder, upper, lower, x):
    """Product of the off-diagonal part of the tree matrix with `x` (all (n,) arrays)."""
    parent = order.parent[:-1]
    x_pad = jnp.concatenate([x, jnp.zeros((1,) + x.shape[1:], x.dtype)])  # roots' parent
    out = upper * take_static(x_pad, parent)
    return out + scatter_add_static(jnp.zeros_like(x_pad), parent, lower * x)[:-1]


def _matvec(order: TreeOrder, diag, upper, lower, x):
    return diag * x + tree_offdiag_matvec(order, upper, lower, x)


def _solve(order: TreeOrder, diag, upper, lower, rhs):
    """Solve (n,) arrays; under `vmap`, the batch rides along as a trailing axis.

    `_solve_sequential` indexes only the node (leading) axis, so a (n, batch) layout
    turns every loop step into one contiguous row operation instead of a batched scatter.
    """

    def solve_nodes_first(d, u, l, b):
        if order.groups is None:
            return _solve_sequential(order, d, u, l, b)
        pieces = []  # (first node, values) of sliced blocks
        out = None
        for nodes, local, blocks in order.groups:  # nodes (m, K): rows of K identical trees
            if blocks is None:
                solution = _solve_group(local, _solve_sequential, [x[nodes] for x in (d, u, l, b)])
                out = (jnp.zeros_like(b) if out is None else out).at[nodes].set(solution)
                continue
            k = nodes.shape[1]
            solution = _solve_group(
                local, _solve_sequential, [_rows(x, blocks, k) for x in (d, u, l, b)]
            )
            for start, end, first in blocks:
                block = jnp.moveaxis(solution[start:end], 0, 1)  # (K, r, ...)
                pieces.append((first, block.reshape((-1,) + block.shape[2:])))
        pieces.sort(key=lambda item: item[0])
        if (
            out is None
            and [p[0] for p in pieces]
            == list(np.cumsum([0] + [p[1].shape[0] for p in pieces[:-1]]))
            and sum(p[1].shape[0] for p in pieces) == b.shape[0]
        ):
            return jnp.concatenate([p[1] for p in pieces])  # blocks tile all nodes
        out = jnp.zeros_like(b) if out is None else out
        for first, values in pieces:
            out = jax.lax.dynamic_update_slice_in_dim(out, values, first, axis=0)
        return out

    @jax.custom_batching.custom_vmap
    def solve(d, u, l, b):
        return solve_nodes_first(d, u, l, b)

    @solve.def_vmap
    def _solve_batched(axis_size, in_batched, d, u, l, b):
        # Batched arguments get the batch as a trailing axis; unbatched ones (typically the
        # off-diagonals) a trailing axis of 1 that broadcasts inside the loop, so they are
        # neither copied per batch member nor read per column in every loop step.
        d, u, l, b = (
            jnp.moveaxis(x, 0, -1) if batched else x[..., None]
            for x, batched in zip((d, u, l, b), in_batched, strict=True)
        )
        d, b = (jnp.broadcast_to(x, x.shape[:-1] + (axis_size,)) for x in (d, b))  # carried
        if order.groups is None:
            solved = _in_batch_chunks_as_forest(order, (d, u, l, b), axis_size)
        else:
            solved = _in_batch_chunks(solve_nodes_first, (d, u, l, b), axis_size)
        return jnp.moveaxis(solved, -1, 0), True

    return solve(diag, upper, lower, rhs)


def _zero_at_roots(order: TreeOrder, a):
    """`a` with the roots' entries set to 0 (the elimination reads `upper` there)."""
    has_parent = order.parent[:-1] < order.num_nodes
    if has_parent.all():
        return a
    return jnp.where(has_parent.reshape((-1,) + (1,) * (jnp.ndim(a) - 1)), a, 0.0)


def tree_solve(order: TreeOrder, diag, upper, lower, rhs, upper_zero_at_roots: bool = False):
    """Solve `A x = rhs` for the tree matrix `A` described in the module docstring.

    Args:
        order: elimination order from `build_tree_order`.
        diag, upper, lower, rhs: (n,) arrays. Entries of `upper`/`lower` at roots couple to
            no node and are ignored.

    Returns:
        (n,) solution. Differentiated implicitly: the tangent of `x` solves
        `A dx = drhs - dA x` (`lax.custom_linear_solve`, whose transpose is the transposed
        tree solve), so forward and reverse mode each cost one extra tree solve, O(n). The
        implicit rule is a `custom_jvp`: a simulation that is not differentiated traces and
        compiles the primal solve only.

    With `upper_zero_at_roots` the caller guarantees that `upper` is 0 at roots (the
    elimination reads it there); otherwise the roots' entries are zeroed here.
    """
    return implicit_primal_solve(
        order, functools.partial(_solve, order), diag, upper, lower, rhs, upper_zero_at_roots
    )


def implicit_primal_solve(order: TreeOrder, primal, diag, upper, lower, rhs, upper_zero_at_roots):
    """`primal(diag, upper, lower, rhs)` with `tree_solve`'s implicit derivative.

    `primal` is any solver of the tree system of `order` that reads `upper` at roots (as
    `_solve_sequential` does, which back-substitutes a root against itself, times its
    `upper`), so roots' `upper` is zeroed here unless `upper_zero_at_roots`; the
    transposed system takes `lower` as its `upper`, zeroed at roots the same way. Used by
    `tree_solve`, `dendrax.solvers.branched` and `dendrax.solvers.native_tree`.
    """
    if not upper_zero_at_roots:
        upper = _zero_at_roots(order, upper)
    return implicit_tree_solve(
        order,
        primal,
        lambda d, u, l, b: primal(d, _zero_at_roots(order, l), u, b),
        diag,
        upper,
        lower,
        rhs,
    )


def implicit_tree_solve(order: TreeOrder, solve, transpose_solve, diag, upper, lower, rhs):
    """`solve(diag, upper, lower, rhs)` of a tree matrix, with its implicit derivative.

    Args:
        order: the forest (`build_tree_order`), for the matrix-vector products.
        solve: `(diag, upper, lower, rhs) -> x`, any solver of `A x = rhs`.
        transpose_solve: `(diag, upper, lower, rhs) -> x` solving `A^T x = rhs` for the same
            arguments (`A^T` has `upper` and `lower` swapped).
        diag, upper, lower, rhs: (n, ...) arrays (the module docstring's layout).

    The rule is a `custom_jvp`: the tangent of `x` solves `A dx = drhs - dA x` through
    `lax.custom_linear_solve` (reverse mode transposes it into `transpose_solve`), so each
    mode costs one more solve, traced only when differentiated. The solution is named
    `SOLUTION_NAME` for rematerialization policies.
    """

    @jax.custom_jvp
    def primal(d, u, l, b):
        return solve(d, u, l, b)

    @primal.defjvp
    def primal_jvp(primals, tangents):
        d, u, l, b = primals
        d_dot, u_dot, l_dot, b_dot = tangents
        x = checkpoint_name(primal(d, u, l, b), SOLUTION_NAME)
        residual = b_dot - _matvec(order, d_dot, u_dot, l_dot, x)
        x_dot = jax.lax.custom_linear_solve(
            lambda y: _matvec(order, d, u, l, y),
            residual,
            solve=lambda _, c: solve(d, u, l, c),
            transpose_solve=lambda _, c: transpose_solve(d, u, l, c),
        )
        return x, x_dot

    return primal(diag, upper, lower, rhs)


@dataclass(frozen=True)
class TreeSolver(LinearSolver):
    """Hines elimination node by node (`tree_solve`): O(n) work, n sequential steps."""

    name = "tree"

    def solve(self, structure, diag, upper, lower, rhs, upper_zero_at_roots=False):
        return tree_solve(structure.tree, diag, upper, lower, rhs, upper_zero_at_roots)

    def sequential_iterations(self, structure) -> int:
        # elimination and back-substitution each visit every node once
        return 2 * int(structure.n_nodes)
