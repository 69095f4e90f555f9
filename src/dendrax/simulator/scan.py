"""The time loop: `lax.scan` over steps, rematerialized in reverse mode, optionally with
nested checkpointing."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from dendrax.checks.inputs import check_checkpoint_lengths_type
from dendrax.solvers.tree import SOLUTION_NAME
from dendrax.utils.jax_utils import nested_checkpoint_scan

__all__ = ["scan_steps", "check_checkpoint_lengths"]

_SAVE_TREE_SOLUTION = jax.checkpoint_policies.save_only_these_names(SOLUTION_NAME)


def _remat_in_scan(fn):
    """`jax.checkpoint` for a body that runs inside a scan (see `scan_steps`)."""
    return jax.checkpoint(fn, prevent_cse=False)


def check_checkpoint_lengths(checkpoint_lengths, n_steps: int) -> tuple | None:
    """`checkpoint_lengths` as a tuple of positive ints whose product covers `n_steps`."""
    if checkpoint_lengths is None:
        return None
    check_checkpoint_lengths_type(checkpoint_lengths)
    lengths = tuple(int(x) for x in checkpoint_lengths)
    total = int(np.prod(lengths))
    if total < n_steps:
        raise ValueError(
            f"The product of checkpoint_lengths ({total}) is smaller than the number of steps "
            f"({n_steps}); choose lengths whose product is at least {n_steps}."
        )
    return lengths


def scan_steps(step_body, init, xs, n_steps, checkpoint_lengths, final_needed=True):
    """Scan `step_body` over `n_steps` steps, optionally with nested checkpointing.

    With checkpointing (`checkpoint_lengths` from `check_checkpoint_lengths`), the loop runs
    `prod(checkpoint_lengths) >= n_steps` steps, the inputs `xs` padded with zeros. The
    outputs of the padded steps are dropped, and they cannot change the earlier ones. With
    `final_needed`, the padded steps keep the carry unchanged (a step index travels in
    `xs`, selecting old or new carry), so that the final carry is the state at `n_steps`;
    without it, they run unmasked and the returned final carry is that of the last padded
    step. The selection makes XLA fuse the step less, hence only when the final state is
    used (`return_states=True`).
    """
    # Every step is rematerialized in reverse mode: its backward pass recomputes the step
    # from the carry instead of storing its ~50 intermediate (n_comp,) arrays, which cuts
    # gradient memory ~7x for HH cells and is faster on CPU (less memory traffic). Only the
    # solution of the tree solve is stored, one (n_comp,) array per step: recomputing it
    # would repeat two sequential sweeps over the nodes. `prevent_cse=False`: the step runs
    # inside a scan, whose loop boundaries already keep XLA from merging the recomputation
    # with the forward pass; the default barriers only split the backward step into more
    # kernels.
    step_body = jax.checkpoint(step_body, policy=_SAVE_TREE_SOLUTION, prevent_cse=False)
    if checkpoint_lengths is None:
        return jax.lax.scan(step_body, init, xs, length=n_steps)
    lengths = check_checkpoint_lengths(checkpoint_lengths, n_steps)
    total = int(np.prod(lengths))
    body = step_body
    if total > n_steps:
        xs = jax.tree_util.tree_map(
            lambda x: jnp.concatenate([x, jnp.zeros((total - n_steps,) + x.shape[1:], x.dtype)]),
            xs,
        )
    if total > n_steps and final_needed:
        xs = (jnp.arange(total), xs)

        def body(carry, x):
            t, inner = x
            new, y = step_body(carry, inner)
            active = t < n_steps
            new = jax.tree_util.tree_map(lambda a, b: jnp.where(active, a, b), new, carry)
            return new, y

    final, ys = nested_checkpoint_scan(
        body, init, xs, length=total, nested_lengths=list(lengths), checkpoint_fn=_remat_in_scan
    )
    ys = jax.tree_util.tree_map(lambda y: y[:n_steps], ys)
    return final, ys
