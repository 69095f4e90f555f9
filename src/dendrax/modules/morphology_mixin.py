"""Mixin: compartmentalization (``set_ncomp``), coordinates, moving/rotating and plotting.

Coordinates are in µm and live in the traced points ``base._xyzr`` (one (n, 4) array of
x, y, z, r per branch); ``update_nodes=True`` or :meth:`compute_compartment_centers` also
writes compartment centers into node columns ``x``, ``y``, ``z``.
"""

from __future__ import annotations

import numpy as np

from dendrax import vis as plots
from dendrax.errors import ModelError
from dendrax.morphology.editing import set_branch_ncomp
from dendrax.morphology.layout import compartment_centers, layout_xyzr
from dendrax.tables import index_columns

__all__ = ["MorphologyMixin"]

_ROTATION_AXES = {"xy": (0, 1), "xz": (0, 2), "yz": (1, 2)}


class MorphologyMixin:
    """`set_ncomp`, `compute_xyz`, `compute_compartment_centers`, `move`, `move_to`, `rotate`,
    `arrange_in_layers` and `vis`."""

    # ------------------------------------------------------------------ compartments
    def set_ncomp(
        self, ncomp: int, min_radius: float | None = None, initialize: bool = True
    ) -> None:
        """Change the number of compartments of one branch: ``cell.branch(i).set_ncomp(n)``.

        Not allowed on networks, on a whole multi-branch cell, or on modules with
        recordings, stimuli, clamps, trainables or synapses. Length, capacitance, axial
        resistivity, channels and groups must be uniform in the branch; the radius may vary
        only for SWC branches, whose geometry is then recomputed from the traced points
        (radius clamped at ``min_radius`` µm). ``initialize`` is accepted for Jaxley
        compatibility (tables are always consistent).
        """
        if self is self.base and self._level == "cell" and len(self._ncomp_per_branch) > 1:
            raise ModelError(
                "set_ncomp on a whole multi-branch Cell is not allowed; "
                "use cell.branch(i).set_ncomp(n)."
            )
        base = self.base
        branches = base._nodes["global_branch_index"][self._inds]
        new = set_branch_ncomp(base.tables, branches, ncomp, min_radius=min_radius)
        nodes = new["nodes"]
        nodes.update(index_columns(new["ncomp_per_branch"], base._branch_cell))
        base._nodes = nodes
        base._ncomp_per_branch = np.asarray(new["ncomp_per_branch"], np.int64)
        base._frustum = np.asarray(new["frustum"], bool)
        self._touch(layout=True)

    def initialize(self) -> None:
        """No-op kept for Jaxley compatibility (tables are rebuilt eagerly)."""

    # ------------------------------------------------------------------ branch structure
    # Jaxley's names for the branch tree. Branch indices are global (over all cells of
    # the base module); a view reports the branches it contains.
    def _branches_in_view(self) -> np.ndarray:
        return np.unique(self._col("global_branch_index"))

    @property
    def total_nbranches(self) -> int:
        """Number of branches in view (all cells together)."""
        return int(self._branches_in_view().size)

    @property
    def nbranches_per_cell(self) -> list[int]:
        """Branches per cell in view, in cell order."""
        cell_of = self.base._branch_cell[self._branches_in_view()]
        return [int(n) for n in np.unique(cell_of, return_counts=True)[1]]

    @property
    def cumsum_nbranches(self) -> np.ndarray:
        """`[0, n_0, n_0 + n_1, ...]`: offsets of the cells' branches, shape `(n_cells + 1,)`."""
        return np.concatenate([[0], np.cumsum(self.nbranches_per_cell)]).astype(np.int64)

    @property
    def comb_parents(self):
        """Parent branch of every branch in view (global index; -1 for a cell's root).

        A JAX int array of shape `(total_nbranches,)`, as Jaxley's `comb_parents`.
        """
        import jax.numpy as jnp

        return jnp.asarray(self.base._branch_parents[self._branches_in_view()])

    @property
    def branch_edges(self):
        """DataFrame of the parent -> child links between branches in view.

        Columns `parent_branch_index`, `child_branch_index` (global indices), one row per
        non-root branch, in child order.
        """
        import pandas as pd

        branches = self._branches_in_view()
        parents = self.base._branch_parents[branches]
        child = parents >= 0
        return pd.DataFrame(
            {
                "parent_branch_index": parents[child].astype(np.int64),
                "child_branch_index": branches[child].astype(np.int64),
            }
        )

    # ------------------------------------------------------------------ coordinates
    def _cells_in_view(self) -> np.ndarray:
        return np.unique(self._col("global_cell_index"))

    def _branches_of_cells(self, cells) -> list[np.ndarray]:
        bc = self.base._branch_cell
        return [np.flatnonzero(bc == c) for c in cells]

    def _ensure_xyz(self) -> None:
        base = self.base
        if len(base._xyzr) < len(base._ncomp_per_branch) or not all(
            np.all(np.isfinite(x)) for x in base._xyzr
        ):
            # A lazy fill-in of coordinates that nothing simulated depends on: no version bump.
            base._xyzr = layout_xyzr(base.tables)

    def compute_xyz(self) -> None:
        """Lay out branches without traced coordinates (from-scratch cells) in the xy-plane:
        straight lines of the branch length, children fanned out over ±45°."""
        base = self.base
        base._xyzr = layout_xyzr(base.tables)
        self._touch()

    def compute_compartment_centers(self) -> None:
        """Write the compartment centers (µm) into node columns ``x``, ``y``, ``z``."""
        self._ensure_xyz()
        base = self.base
        centers = compartment_centers(base._xyzr, base._ncomp_per_branch)
        new_columns = not all(k in base._nodes for k in "xyz")
        for d, key in enumerate("xyz"):
            base._nodes[key] = centers[:, d].copy()
        self._touch(layout=new_columns)

    def _per_cell(self, value, n_cells: int, name: str) -> np.ndarray:
        arr = np.asarray(value, dtype=float)
        if arr.ndim == 0:
            return np.full(n_cells, float(arr))
        if arr.shape != (n_cells,):
            raise ValueError(
                f"{name} must be a scalar or one value per cell ({n_cells}); got shape {arr.shape}."
            )
        return arr

    def _shift_cells(self, cells, shift: np.ndarray, update_nodes: bool) -> None:
        base = self.base
        for branches, s in zip(self._branches_of_cells(cells), shift, strict=True):
            for b in branches:
                pts = np.array(base._xyzr[b], float)
                pts[:, :3] += s
                base._xyzr[b] = pts
        self._touch()
        if update_nodes:
            self.compute_compartment_centers()

    def move(
        self, x: float = 0.0, y: float = 0.0, z: float = 0.0, update_nodes: bool = False
    ) -> None:
        """Translate the cells in view by (x, y, z) µm; arrays give one shift per cell."""
        self._ensure_xyz()
        cells = self._cells_in_view()
        shift = np.column_stack(
            [self._per_cell(v, cells.size, n) for v, n in ((x, "x"), (y, "y"), (z, "z"))]
        )
        self._shift_cells(cells, shift, update_nodes)

    def move_to(
        self, x: float = 0.0, y: float = 0.0, z: float = 0.0, update_nodes: bool = False
    ) -> None:
        """Translate every cell in view so that its first traced point (the proximal end of
        its root branch) lies at (x, y, z) µm; arrays give one target per cell."""
        self._ensure_xyz()
        cells = self._cells_in_view()
        target = np.column_stack(
            [self._per_cell(v, cells.size, n) for v, n in ((x, "x"), (y, "y"), (z, "z"))]
        )
        first = np.array([self.base._xyzr[br[0]][0, :3] for br in self._branches_of_cells(cells)])
        self._shift_cells(cells, target - first, update_nodes)

    def rotate(self, degrees: float, rotation_axis: str = "xy", update_nodes: bool = False) -> None:
        """Rotate the cells in view *clockwise* by ``degrees`` about the origin, as Jaxley.

        In the plane ``rotation_axis`` ("xy", "xz" or "yz", coordinates (a, b)) every traced
        point becomes ``(a cos θ + b sin θ, -a sin θ + b cos θ)``: the rotation is about the
        coordinate origin, not about the cells' own centre (move the cells afterwards to
        place them). Only coordinates change, never the simulation.
        """
        if rotation_axis not in _ROTATION_AXES:
            raise ValueError(
                f"rotation_axis must be one of {sorted(_ROTATION_AXES)}; got {rotation_axis!r}."
            )
        self._ensure_xyz()
        i, j = _ROTATION_AXES[rotation_axis]
        t = np.deg2rad(degrees)
        clockwise = np.array([[np.cos(t), np.sin(t)], [-np.sin(t), np.cos(t)]])
        base = self.base
        for b in np.concatenate(self._branches_of_cells(self._cells_in_view())):
            pts = np.array(base._xyzr[b], float)
            pts[:, [i, j]] = pts[:, [i, j]] @ clockwise.T
            base._xyzr[b] = pts
        self._touch()
        if update_nodes:
            self.compute_compartment_centers()

    def arrange_in_layers(
        self,
        layers,
        within_layer_offset: float = 500.0,
        between_layer_offset: float = 1500.0,
        vertical_layers: bool = False,
    ) -> None:
        """Place the cells of a network in layers (``layers``: cells per layer, in order).

        Layer k lies at y = -k·between_layer_offset (x when ``vertical_layers``), its cells
        ``within_layer_offset`` µm apart along the other axis, centered on 0.
        """
        layers = [int(n) for n in layers]
        n_cells = int(np.unique(self.base._branch_cell).size)
        if sum(layers) != n_cells or any(n < 1 for n in layers):
            raise ValueError(f"layers {layers} must be positive and sum to {n_cells} cells.")
        along, across = [], []
        for k, n in enumerate(layers):
            along.extend((np.arange(n) - (n - 1) / 2.0) * within_layer_offset)
            across.extend([-k * between_layer_offset] * n)
        along, across = np.asarray(along), np.asarray(across)
        x, y = (across, along) if vertical_layers else (along, across)
        self.base.move_to(x=x, y=y, z=np.zeros(n_cells))

    # ------------------------------------------------------------------ plotting
    def vis(self, ax=None, color="k", dims=(0, 1), type: str = "line", **kwargs):
        """Plot the branches in view with matplotlib; returns the axes.

        ``type``: "line" (traced polylines), "scatter" (traced points), "comp" (every
        compartment as a cylinder of its true length and radius) or "morph" (the traced
        frusta). ``dims`` picks the coordinates (2 or 3 for line/scatter). Extra keyword
        arguments go to matplotlib.
        """
        self._ensure_xyz()
        base = self.base
        branches = np.unique(self._col("global_branch_index"))
        xyzr = [base._xyzr[b] for b in branches]
        if type in ("line", "scatter"):
            return plots.plot_branches(xyzr, ax=ax, color=color, dims=dims, type=type, **kwargs)
        if type == "morph":
            return plots.plot_morph(xyzr, ax=ax, color=color, dims=dims, **kwargs)
        if type == "comp":
            direction = np.zeros((len(base._ncomp_per_branch), 3))
            for b in branches:
                pts = np.asarray(base._xyzr[b], float)[:, :3]
                d = pts[-1] - pts[0]
                norm = np.linalg.norm(d)
                direction[b] = d / norm if norm > 0 else (1.0, 0.0, 0.0)
            inds = self._inds
            nodes = base._nodes
            return plots.plot_compartments(
                compartment_centers(base._xyzr, base._ncomp_per_branch)[inds],
                direction[nodes["global_branch_index"][inds]],
                nodes["length"][inds],
                nodes["radius"][inds],
                ax=ax,
                color=color,
                dims=dims,
                **kwargs,
            )
        raise ValueError(f"type must be 'line', 'scatter', 'comp' or 'morph'; got {type!r}.")
