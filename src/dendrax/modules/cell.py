"""A cell: a tree of branches."""

from __future__ import annotations

import numpy as np

from dendrax.modules.base import Module
from dendrax.modules.branch import Branch
from dendrax.modules.compartment import Compartment
from dendrax.morphology.layout import path_centers
from dendrax.tables import concat_nodes, index_columns

__all__ = ["Cell"]


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
        nodes.update(index_columns(ncomp, np.zeros(len(parts), np.int64)))
        nodes = {k: np.array(v, copy=True) for k, v in nodes.items()}
        self._init_base(nodes, parents, ncomp, np.zeros(len(parts), np.int64), parts=parts)
        self._xyzr = (
            self._default_xyzr(parts) if xyzr is None else [np.asarray(x, float) for x in xyzr]
        )

    @staticmethod
    def _default_xyzr(parts):
        return [np.array([[np.nan, np.nan, np.nan, np.nan]]) for _ in parts]

    @classmethod
    def _from_morphology(cls, morph, assign_groups: bool = True) -> Cell:
        """Build a cell from a traced `Morphology` (per-compartment frustum geometry)."""
        parents = validate_parents(morph.parents, len(morph.ncomp_per_branch))
        cell = cls.__new__(cls)
        n = int(np.sum(morph.ncomp_per_branch))
        nodes = concat_nodes([Compartment().base._nodes] * n) if n else {}
        nodes = {k: np.array(v, copy=True) for k, v in nodes.items()}
        nodes.update(index_columns(morph.ncomp_per_branch, np.zeros(len(parents), np.int64)))
        for name in (
            "length",
            "radius",
            "area",
            "volume",
            "resistive_load_in",
            "resistive_load_out",
        ):
            nodes[name] = np.asarray(getattr(morph, name), dtype=float).copy()
        # Jaxley's reader stores compartment positions at path fraction (k + 1/2)/n; as
        # ordinary columns they are averaged by `set_ncomp` like every other column.
        centers = path_centers(morph.xyzr, morph.ncomp_per_branch)
        for d, key in enumerate("xyz"):
            nodes[key] = centers[:, d]
        cell._init_base(nodes, parents, morph.ncomp_per_branch, np.zeros(len(parents), np.int64))
        cell._frustum[:] = True
        cell._xyzr = [np.asarray(x, float) for x in morph.xyzr]
        if assign_groups:
            names = {1: "soma", 2: "axon", 3: "basal", 4: "apical"}
            type_id = np.asarray(morph.type_id)
            for t in np.unique(type_id):
                group = names.get(int(t), f"custom{int(t)}")
                cell._groups.append(group)
                cell._nodes[group] = type_id == t
        return cell
