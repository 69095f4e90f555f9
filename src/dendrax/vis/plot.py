"""Matplotlib plots of morphologies (coordinates in µm). matplotlib is imported lazily."""

from __future__ import annotations

import numpy as np

__all__ = ["plot_branches", "plot_compartments", "plot_morph", "plot_synapses"]


def _axes(ax, dims):
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax
    if len(dims) == 3:
        return plt.figure().add_subplot(projection="3d")
    _, ax = plt.subplots()
    return ax


def _check_dims(dims):
    dims = tuple(int(d) for d in dims)
    if len(dims) not in (2, 3) or any(d not in (0, 1, 2) for d in dims):
        raise ValueError(f"dims must be 2 or 3 of (0, 1, 2); got {dims}.")
    return dims


def plot_branches(xyzr, ax=None, color="k", dims=(0, 1), type="line", **kwargs):
    """Plot traced polylines (``type="line"``) or their points (``"scatter"``).

    Args:
        xyzr: list of (n_i, 4) arrays of points (µm); NaN branches are skipped.
        ax: matplotlib axes (a 3-D one when ``len(dims) == 3``); created if None.
        color: matplotlib color. dims: coordinate axes to plot. kwargs: passed on.

    Returns:
        the axes.
    """
    dims = _check_dims(dims)
    ax = _axes(ax, dims)
    for pts in xyzr:
        pts = np.asarray(pts, float)
        if not np.isfinite(pts).all():
            continue
        coords = [pts[:, d] for d in dims]
        if type == "line":
            ax.plot(*coords, color=color, **kwargs)
        elif type == "scatter":
            ax.scatter(*coords, color=color, **kwargs)
        else:
            raise ValueError(f"type must be 'line' or 'scatter' here; got {type!r}.")
    return ax


def _outline(p0, p1, r0, r1, dims):
    """Polygon (4, 2) of a frustum from p0 to p1 projected onto ``dims``."""
    a, b = np.asarray(p0)[list(dims)], np.asarray(p1)[list(dims)]
    d = b - a
    norm = np.linalg.norm(d)
    n = np.array([-d[1], d[0]]) / norm if norm > 0 else np.array([0.0, 1.0])
    return np.array([a + r0 * n, b + r1 * n, b - r1 * n, a - r0 * n])


def _patches(ax, polys, color, kwargs):
    from matplotlib.collections import PolyCollection

    coll = PolyCollection(
        polys, facecolors=color, edgecolors=kwargs.pop("edgecolor", "none"), **kwargs
    )
    ax.add_collection(coll)
    ax.autoscale_view()
    ax.set_aspect("equal", adjustable="datalim")
    return ax


def plot_compartments(
    centers, directions, lengths, radii, ax=None, color="k", dims=(0, 1), **kwargs
):
    """Each compartment as a cylinder (a rectangle in projection) of its true length.

    Args:
        centers: (n, 3) compartment centers (µm). directions: (n, 3) unit axis vectors.
        lengths, radii: (n,) µm.
    """
    dims = _check_dims(dims)
    if len(dims) != 2:
        raise ValueError("type='comp' plots in 2-D only (two dims).")
    ax = _axes(ax, dims)
    half = 0.5 * np.asarray(lengths)[:, None] * np.asarray(directions)
    polys = [
        _outline(c - h, c + h, r, r, dims) for c, h, r in zip(centers, half, radii, strict=True)
    ]
    return _patches(ax, polys, color, kwargs)


def plot_morph(xyzr, ax=None, color="k", dims=(0, 1), **kwargs):
    """The traced shape: one frustum (trapezoid in projection) per traced segment."""
    dims = _check_dims(dims)
    if len(dims) != 2:
        raise ValueError("type='morph' plots in 2-D only (two dims).")
    ax = _axes(ax, dims)
    kwargs.pop("resolution", None)
    polys = []
    for pts in xyzr:
        pts = np.asarray(pts, float)
        if not np.isfinite(pts).all():
            continue
        if len(pts) == 1 or np.allclose(pts[:, :3], pts[0, :3]):  # a sphere
            t = np.linspace(0, 2 * np.pi, 24)
            c = pts[0, list(dims)]
            polys.append(
                np.column_stack([c[0] + pts[0, 3] * np.cos(t), c[1] + pts[0, 3] * np.sin(t)])
            )
            continue
        for k in range(len(pts) - 1):
            polys.append(_outline(pts[k, :3], pts[k + 1, :3], pts[k, 3], pts[k + 1, 3], dims))
    return _patches(ax, polys, color, kwargs)


def plot_synapses(
    pre_xyz, post_xyz, ax=None, color="b", dims=(0, 1), line_kwargs=None, scatter_kwargs=None
):
    """One line per synapse from its presynaptic to its postsynaptic location (µm), and a
    marker at the postsynaptic end. All lines are one matplotlib line, the segments
    separated by NaN, so large networks draw in one call.

    Args:
        pre_xyz, post_xyz: (n_synapses, 3) coordinates.
        line_kwargs, scatter_kwargs: passed to `ax.plot` / `ax.scatter`.

    Returns:
        the axes.
    """
    dims = _check_dims(dims)
    ax = _axes(ax, dims)
    pre_xyz, post_xyz = np.asarray(pre_xyz, float), np.asarray(post_xyz, float)
    if pre_xyz.shape != post_xyz.shape:
        raise ValueError(
            f"pre_xyz and post_xyz must have the same (n_synapses, 3) shape; got "
            f"{pre_xyz.shape} and {post_xyz.shape}."
        )
    if post_xyz.shape[0]:
        gap = np.full(pre_xyz.shape[0], np.nan)
        coords = [np.stack([pre_xyz[:, d], post_xyz[:, d], gap], axis=1).reshape(-1) for d in dims]
        ax.plot(*coords, color=color, **(line_kwargs or {}))
        ax.scatter(*[post_xyz[:, d] for d in dims], color=color, **(scatter_kwargs or {}))
    return ax
