"""The `Morphology`: a compartmentalized tree of branches, as plain numpy arrays."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Morphology"]


@dataclass(frozen=True)
class Morphology:
    """Branches and compartments of a reconstructed cell (µm, µm², µm³).

    Branch ``b``'s proximal end attaches to the distal end of branch ``parents[b]``
    (``-1`` for the root branch, which is branch 0). Per-compartment arrays are ordered
    branch by branch (all compartments of branch 0 first), proximal to distal.

    Attributes:
        parents: (n_branches,) int, parent branch index, -1 for the root.
        ncomp_per_branch: (n_branches,) int, compartments of each branch.
        length: (n_comps,) float, compartment length = branch length / ncomp (µm).
        radius: (n_comps,) float, length-weighted mean radius (µm), clamped by `min_radius`.
        area: (n_comps,) float, membrane area, sum of frustum lateral areas (µm²).
        volume: (n_comps,) float, sum of frustum volumes (µm³).
        resistive_load_in: (n_comps,) float, ∫ dl/(π r²) over the proximal half (1/µm).
        resistive_load_out: (n_comps,) float, the same over the distal half (1/µm).
        type_id: (n_comps,) int, SWC structure type of the compartment's branch.
        xyzr: list of n_branches (n_pts, 4) float arrays, traced points of each branch (µm).
    """

    parents: np.ndarray
    ncomp_per_branch: np.ndarray
    length: np.ndarray
    radius: np.ndarray
    area: np.ndarray
    volume: np.ndarray
    resistive_load_in: np.ndarray
    resistive_load_out: np.ndarray
    type_id: np.ndarray
    xyzr: list[np.ndarray] = field(repr=False)

    def __post_init__(self) -> None:
        n_b = len(self.parents)
        n_c = int(np.sum(self.ncomp_per_branch))
        if len(self.ncomp_per_branch) != n_b or len(self.xyzr) != n_b:
            raise ValueError("parents, ncomp_per_branch and xyzr need one entry per branch")
        for name in (
            "length",
            "radius",
            "area",
            "volume",
            "resistive_load_in",
            "resistive_load_out",
            "type_id",
        ):
            if len(getattr(self, name)) != n_c:
                raise ValueError(f"{name} needs one entry per compartment ({n_c})")
        if n_b and (self.parents[0] != -1 or np.any(self.parents[1:] >= np.arange(1, n_b))):
            raise ValueError("parents must start with -1 and point to earlier branches")

    @property
    def n_branches(self) -> int:
        """Number of branches."""
        return len(self.parents)

    @property
    def n_comps(self) -> int:
        """Number of compartments."""
        return len(self.length)

    @property
    def branch_index(self) -> np.ndarray:
        """(n_comps,) int, branch of every compartment."""
        return np.repeat(np.arange(self.n_branches), self.ncomp_per_branch)

    @property
    def comp_offsets(self) -> np.ndarray:
        """(n_branches + 1,) int, compartments of branch b are ``[offsets[b], offsets[b+1])``."""
        return np.concatenate([[0], np.cumsum(self.ncomp_per_branch)])

    @property
    def branch_length(self) -> np.ndarray:
        """(n_branches,) float, length of every branch (µm)."""
        return (
            np.add.reduceat(self.length, self.comp_offsets[:-1]) if self.n_comps else (np.zeros(0))
        )

    @property
    def branch_type_id(self) -> np.ndarray:
        """(n_branches,) int, SWC type of every branch."""
        return self.type_id[self.comp_offsets[:-1]]
