"""Index and parameter helpers with Jaxley's public names (`jaxley.utils.cell_utils`)."""

from __future__ import annotations

import numpy as np

from dendrax.utils.misc_utils import cumsum_leading_zero

__all__ = ["loc_of_index", "local_index_of_loc", "params_to_pstate"]


def loc_of_index(global_comp_index, global_branch_index, ncomp_per_branch):
    """Position in [0, 1] of the centre of a compartment on its branch.

    Args:
        global_comp_index: global index of the compartment (int or array).
        global_branch_index: global index of the branch that holds it (same shape).
        ncomp_per_branch: (n_branches,) compartments of every branch of the module.

    Returns:
        `(local_index + 0.5) / ncomp`, e.g. 0.625 for the third of four compartments.
    """
    ncomp_per_branch = np.asarray(ncomp_per_branch)
    branch = np.asarray(global_branch_index)
    local = np.asarray(global_comp_index) - cumsum_leading_zero(ncomp_per_branch)[branch]
    return (local + 0.5) / ncomp_per_branch[branch]


def local_index_of_loc(loc: float, global_branch_ind: int, ncomp_per_branch) -> int:
    """Index within its branch of the compartment whose centre is nearest to `loc`.

    Args:
        loc: position on the branch in [0, 1] (0: proximal end, 1: distal end).
        global_branch_ind: global index of the branch.
        ncomp_per_branch: (n_branches,) compartments of every branch of the module.

    A position exactly between two centres goes to the proximal compartment, as in
    `module.loc(...)`.
    """
    ncomp = int(np.asarray(ncomp_per_branch)[global_branch_ind])
    centers = (np.arange(ncomp) + 0.5) / ncomp
    return int(np.argmin(np.abs(centers - float(loc))))


def params_to_pstate(params, indices_set_by_trainables) -> list[dict]:
    """Turn trainable parameters into a parameter state (the format `data_set` builds).

    Args:
        params: list of `{key: (n_values,) array}`, as `module.get_parameters()`.
        indices_set_by_trainables: `module.indices_set_by_trainables`: per trainable an
            (n_values, rows_per_value) integer array of the rows each value sets (-1 pads
            groups of unequal size).

    Returns:
        list of `{"key", "val", "indices"}`: value `val[i]` goes to rows `indices[i]`. Pass
        it to `integrate(..., param_state=...)` or `module.get_all_parameters(...)`.
    """
    if len(params) != len(indices_set_by_trainables):
        raise ValueError(
            f"{len(params)} parameter entries but {len(indices_set_by_trainables)} index "
            "arrays: pass `module.get_parameters()` and `module.indices_set_by_trainables`."
        )
    pstate = []
    for entry, indices in zip(params, indices_set_by_trainables, strict=True):
        if not isinstance(entry, dict) or len(entry) != 1:
            raise ValueError(f"Each parameter entry must be a one-key dict; got {entry!r}.")
        ((key, val),) = entry.items()
        pstate.append({"key": key, "val": val, "indices": indices})
    return pstate
