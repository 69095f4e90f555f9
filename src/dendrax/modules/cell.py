"""A cell: a tree of branches."""

from __future__ import annotations

import numpy as np

from dendrax.modules.base import Module
from dendrax.modules.branch import Branch
from dendrax.modules.construct import new_module
from dendrax.morphology.layout import path_centers
from dendrax.tables import concat_nodes, single_compartment_nodes

__all__ = ["Cell", "cell_from_morphology", "validate_parents"]


def validate_parents(parents, n_branches: int) -> np.ndarray:
    """Check a parent list describes a tree rooted at branch 0 (parents before children)."""
    parents = np.asarray(parents)
    if parents.ndim != 1 or parents.size != n_branches:
        raise ValueError(
            f"parents must have one entry per branch ({n_branches}); got {parents.shape}."
        )
    if not np.issubdtype(parents.dtype, np.integer):
        raise TypeError(f"parents must be integers; got dtype {parents.dtype}.")
    if parents[0] != -1:
        raise ValueError(f"parents[0] must be -1 (branch 0 is the root); got {parents[0]}.")
    bad = np.flatnonzero((parents[1:] < 0) | (parents[1:] >= np.arange(1, n_branches))) + 1
    if bad.size:
        raise ValueError(
            f"parents[{bad[0]}] = {parents[bad[0]]}: every branch except the root needs a parent "
            "with a smaller index."
        )
    return parents.astype(np.int64)


class Cell(Module):
    """A neuron made of branches.

    Args:
        branches: a Branch (repeated for every entry of `parents`) or a list of Branches.
        parents: parent branch of each branch (-1 for the root, branch 0). Children attach
            at the distal end (loc 1) of their parent.
        xyzr: optional per-branch traced points, (n_points, 4) arrays of x, y, z, r in µm.
    """

    _level = "cell"

    def __init__(self, branches=None, parents=None, xyzr=None):
        if branches is None:
            branches = Branch()
        if isinstance(branches, Branch):
            parents = [-1] if parents is None else parents
            parts = [branches] * len(parents)
        else:
            parts = list(branches)
            if not parts or not all(isinstance(b, Branch) for b in parts):
                raise TypeError("Cell() takes a Branch or a non-empty list of Branches.")
            parents = [-1] + [0] * (len(parts) - 1) if parents is None else parents
            if len(parents) != len(parts):
                raise ValueError(f"{len(parts)} branches but {len(parents)} parents were given.")
        parents = validate_parents(parents, len(parts))
        ncomp = np.array([p.base._ncomp_per_branch.sum() for p in parts])
        nodes = concat_nodes([p.base._nodes for p in parts])
        xyzr = _untraced(len(parts)) if xyzr is None else [np.asarray(x, float) for x in xyzr]
        branch_cell = np.zeros(len(parts), np.int64)
        self._init_base(nodes, parents, ncomp, branch_cell, parts=parts, xyzr=xyzr)

    @classmethod
    def _from_morphology(cls, morph, assign_groups: bool = True) -> Cell:
        """A cell of this class from a traced `Morphology` (see `cell_from_morphology`)."""
        return cell_from_morphology(morph, assign_groups, cls)


def _untraced(n_branches: int) -> list:
    """Traced points of branches built from scratch: one NaN point each (no coordinates)."""
    return [np.array([[np.nan, np.nan, np.nan, np.nan]]) for _ in range(n_branches)]


def cell_from_morphology(morph, assign_groups: bool = True, cls=Cell) -> Cell:
    """A Cell from a traced `Morphology` (per-compartment frustum geometry).

    With `assign_groups`, SWC types become groups: 1 soma, 2 axon, 3 basal, 4 apical,
    other ids `custom<id>`.
    """
    parents = validate_parents(morph.parents, len(morph.ncomp_per_branch))
    n = int(np.sum(morph.ncomp_per_branch))
    nodes = concat_nodes([single_compartment_nodes()] * n) if n else {}
    for name in (
        "length",
        "radius",
        "area",
        "volume",
        "resistive_load_in",
        "resistive_load_out",
    ):
        nodes[name] = np.asarray(getattr(morph, name), dtype=float)
    # Jaxley's reader stores compartment positions at path fraction (k + 1/2)/n; as
    # ordinary columns they are averaged by `set_ncomp` like every other column.
    centers = path_centers(morph.xyzr, morph.ncomp_per_branch)
    for d, key in enumerate("xyz"):
        nodes[key] = centers[:, d]
    groups = []
    if assign_groups:
        names = {1: "soma", 2: "axon", 3: "basal", 4: "apical"}
        type_id = np.asarray(morph.type_id)
        for t in np.unique(type_id):
            group = names.get(int(t), f"custom{int(t)}")
            groups.append(group)
            nodes[group] = type_id == t
    return new_module(
        cls,
        nodes=nodes,
        branch_parents=parents,
        ncomp_per_branch=morph.ncomp_per_branch,
        branch_cell=np.zeros(len(parents), np.int64),
        groups=groups,
        xyzr=list(morph.xyzr),
        frustum=np.ones(n, dtype=bool),
    )
