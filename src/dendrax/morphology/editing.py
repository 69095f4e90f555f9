"""Editing compartmentalized cells: ``set_ncomp``, ``morph_delete`` (``morph_connect`` is in
``connect.py``).

All functions work on the columnar node table of a base module (one row per compartment,
branches contiguous, proximal to distal) and rebuild it with numpy; nothing loops over
compartments. Units: µm, µm², µm³, Ω·cm, µF/cm², Hz.
"""

from __future__ import annotations

import numpy as np

from dendrax.errors import ModelError
from dendrax.tables import INDEX_COLUMNS, cylinder_geometry

from .connect import morph_connect
from .geometry import polyline_compartments

__all__ = ["d_lambda_ncomp", "morph_connect", "morph_delete", "set_branch_ncomp"]

_HOMOGENEOUS = ("length", "capacitance", "axial_resistivity")


def d_lambda_ncomp(length, radius, axial_resistivity, capacitance, frequency=100.0, d_lambda=0.1):
    """Odd number of compartments by NEURON's d_lambda rule.

    ``λ_f = 1e5·sqrt(d / (4π f Ra cm))`` (µm, d = 2·radius in µm) and
    ``ncomp = int((L / (d_lambda·λ_f) + 0.9) / 2)·2 + 1``.

    Args:
        length: branch length L (µm); scalars or arrays broadcast.
        radius: branch radius (µm).
        axial_resistivity: Ra (Ω·cm).
        capacitance: cm (µF/cm²).
        frequency: f (Hz), default 100.
        d_lambda: fraction of λ_f per compartment, default 0.1.

    Returns:
        int or int array, compartments per branch (odd, ≥ 1).
    """
    length, radius = np.asarray(length, float), np.asarray(radius, float)
    if np.any(length <= 0) or np.any(radius <= 0):
        raise ValueError("d_lambda_ncomp needs length > 0 µm and radius > 0 µm")
    lam = 1e5 * np.sqrt(2.0 * radius / (4.0 * np.pi * frequency * axial_resistivity * capacitance))
    n = ((length / (d_lambda * lam) + 0.9) / 2.0).astype(int) * 2 + 1
    return int(n) if n.ndim == 0 else n


def _check_no_inputs(tables, what: str) -> None:
    """Refuse editing a module (its `tables`) that has inputs, trainables or synapses."""
    for items, name in (
        (tables.recordings, "recordings"),
        (tables.stimuli, "stimuli"),
        (tables.clamps, "clamps"),
        (tables.trainables, "trainable parameters"),
    ):
        if items:
            raise ModelError(
                f"{what} is not allowed on a module with {name}; delete them first "
                "(delete_recordings / delete_stimuli / delete_trainables) and add them after."
            )
    if tables.edges and len(next(iter(tables.edges.values()))):
        raise ModelError(f"{what} is not allowed on a module with synapses.")


def _traced(xyzr: np.ndarray) -> bool:
    return xyzr is not None and len(xyzr) > 0 and bool(np.all(np.isfinite(xyzr)))


def set_branch_ncomp(tables, branches, ncomp: int, min_radius: float | None = None) -> dict:
    """The tables of a module after changing the compartments of one branch to ``ncomp``.

    ``tables``: the module's tables (``module.tables``); ``branches``: the global indices of
    the branches in view (exactly one). New compartments take the average of the old rows;
    length is the branch length split equally. For SWC branches (traced ``xyzr``), radius,
    area, volume and resistive loads are recomputed from the traced points split at equal
    path length (radius clamped at ``min_radius`` µm); otherwise they are cylinders of the
    mean radius.

    Returns:
        ``{"nodes", "ncomp_per_branch", "frustum"}``: the new node table (index columns to
        be recomputed), (n_branches,) compartments per branch and (n_comp,) frustum flags.

    Raises:
        ModelError: (a ValueError and AssertionError) on networks, views of several
            branches, modules with recordings, stimuli, clamps, trainables or synapses, or
            inhomogeneous branches (geometry, channels, channel parameters, groups).
    """
    if isinstance(ncomp, bool) or int(ncomp) != ncomp or ncomp < 1:
        raise ValueError(f"ncomp must be a positive integer; got {ncomp!r}.")
    ncomp = int(ncomp)
    if tables.level == "network":
        raise ModelError("set_ncomp is not allowed on networks; call it on the cells first.")
    branches = np.unique(branches)
    if branches.size != 1:
        raise ModelError(
            f"set_ncomp changes one branch at a time ({branches.size} in view); use "
            "cell.branch(i).set_ncomp(n)."
        )
    _check_no_inputs(tables, "set_ncomp")
    b = int(branches[0])
    off = np.concatenate([[0], np.cumsum(tables.ncomp_per_branch)])
    rows = np.arange(off[b], off[b + 1])
    old = tables.nodes
    xyzr = tables.xyzr
    traced = bool(tables.frustum[rows].any()) and b < len(xyzr) and _traced(xyzr[b])
    for key in _HOMOGENEOUS + (() if traced else ("radius",)):
        vals = old[key][rows]
        if not np.allclose(vals, vals[0], rtol=1e-10, atol=0.0):
            raise ModelError(
                f"set_ncomp needs a branch with one value of {key!r}; got {np.unique(vals)}."
                + (
                    " (radius may vary only for SWC branches with traced points)"
                    if key == "radius"
                    else ""
                )
            )
    # Averaging a channel parameter would silently change the model (as Jaxley, refuse).
    params = dict.fromkeys(k for c in tables.channels for k in c.channel_params)
    for key in params:
        vals = old[key][rows]
        same = np.isnan(vals).all() or np.allclose(vals, vals[0], rtol=1e-10, atol=0.0)
        if not same:
            raise ModelError(
                f"set_ncomp needs a branch with one value of channel parameter {key!r}; got "
                f"{np.unique(vals)}. Set it uniformly in the branch before set_ncomp."
            )
    new = {}
    for key, col in old.items():
        if key in INDEX_COLUMNS:
            value = np.zeros(ncomp, col.dtype)
        elif col.dtype == bool or not np.issubdtype(col.dtype, np.number):
            if np.any(col[rows] != col[rows][0]):
                raise ModelError(f"set_ncomp needs {key!r} to be the same in the whole branch.")
            value = np.full(ncomp, col[rows][0], col.dtype)
        else:
            value = np.full(ncomp, np.mean(col[rows]), col.dtype)
        new[key] = value
    total = float(old["length"][rows].sum())
    new["length"] = np.full(ncomp, total / ncomp)
    if traced:
        pts = np.asarray(xyzr[b], float)
        geo = polyline_compartments(pts, np.array([0, len(pts)]), np.array([ncomp]))
        radius = geo["radius"]
        if min_radius is not None:
            radius = np.maximum(radius, min_radius)
        new["radius"] = radius
        for key in ("area", "volume", "resistive_load_in", "resistive_load_out"):
            new[key] = geo[key]
    else:
        new.update(cylinder_geometry(new["radius"], new["length"]))
    nodes = {k: np.concatenate([v[: off[b]], new[k], v[off[b + 1] :]]) for k, v in old.items()}
    n_per = np.array(tables.ncomp_per_branch, copy=True)
    n_per[b] = ncomp
    frustum = np.concatenate(
        [tables.frustum[: off[b]], np.full(ncomp, traced), tables.frustum[off[b + 1] :]]
    )
    return {"nodes": nodes, "ncomp_per_branch": n_per, "frustum": frustum}


def _cell_parts(tables):
    """Node rows, parents, ncomp, xyzr, frustum of a Cell's `tables` (copies)."""
    return (
        {k: np.array(v, copy=True) for k, v in tables.nodes.items()},
        np.array(tables.branch_parents, copy=True),
        np.array(tables.ncomp_per_branch, copy=True),
        [np.array(x, copy=True) for x in tables.xyzr],
        np.array(tables.frustum, copy=True),
    )


def _new_cell(template, nodes, parents, ncomp, xyzr, frustum, channels, groups):
    """A new Cell of the class of base module ``template`` with the given tables.

    It shares no mutable state with ``template`` (``from_tables(like=...)`` deep-copies its
    other attributes, e.g. the list of diffusing states), so editing one cell never changes
    the other. Mechanism objects are shared, as between a Cell and the Network built from it.
    """
    return type(template).from_tables(
        like=template,
        nodes=nodes,
        branch_parents=parents,
        ncomp_per_branch=ncomp,
        branch_cell=np.zeros(len(ncomp), np.int64),
        xyzr=xyzr,
        frustum=frustum,
        channels=channels,
        groups=groups,
    )


def morph_delete(view):
    """A new Cell without the branches in ``view`` (whole branches are deleted).

    Every child of a deleted branch must be deleted too (select the subtree, e.g.
    ``cell.apical``). Allowed on Cells without recordings, stimuli or trainables.
    """
    base = view.base
    tables = base.tables
    if tables.level != "cell":
        raise ValueError(f"morph_delete works on Cells only, got a {type(base).__name__}.")
    _check_no_inputs(tables, "morph_delete")
    drop = np.zeros(len(tables.ncomp_per_branch), bool)
    drop[np.unique(tables.nodes["global_branch_index"][view.node_indices])] = True
    if drop.all():
        raise ValueError("morph_delete would delete every branch of the cell.")
    parents = tables.branch_parents
    orphan = np.flatnonzero(~drop & (parents >= 0) & drop[np.maximum(parents, 0)])
    if orphan.size:
        raise ValueError(
            f"branch {int(orphan[0])} would lose its parent {int(parents[orphan[0]])}; "
            "delete whole subtrees (include the children in the view)."
        )
    if drop[0]:
        raise ValueError("the root branch (0) cannot be deleted while branches remain.")
    keep = np.flatnonzero(~drop)
    nodes, _, ncomp, xyzr, frustum = _cell_parts(tables)
    rows = np.flatnonzero(np.repeat(~drop, ncomp))
    new_index = np.full(len(drop), -1)
    new_index[keep] = np.arange(keep.size)
    new_parents = np.where(parents[keep] >= 0, new_index[np.maximum(parents[keep], 0)], -1)
    nodes = {k: v[rows] for k, v in nodes.items()}
    return _new_cell(
        base,
        nodes,
        new_parents,
        ncomp[keep],
        [xyzr[i] for i in keep],
        frustum[rows],
        tables.channels,
        tables.groups,
    )
