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


def _circle(center, radius, resolution):
    """Polygon (resolution, 2) of a circle in the plotting plane."""
    t = np.linspace(0, 2 * np.pi, max(int(resolution), 3), endpoint=False)
    return np.column_stack([center[0] + radius * np.cos(t), center[1] + radius * np.sin(t)])


def _frustum_surface(p0, p1, r0, r1, resolution):
    """(3, 2, resolution) mesh of the lateral surface of a frustum from p0 to p1 (µm)."""
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    axis = p1 - p0
    norm = np.linalg.norm(axis)
    axis = axis / norm if norm > 0 else np.array([1.0, 0.0, 0.0])
    # Two unit vectors orthogonal to the axis span the circular cross-sections.
    helper = np.array([1.0, 0.0, 0.0]) if abs(axis[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    u = np.cross(axis, helper)
    u /= np.linalg.norm(u)
    v = np.cross(axis, u)
    t = np.linspace(0, 2 * np.pi, max(int(resolution), 3))
    ring = np.cos(t)[:, None] * u + np.sin(t)[:, None] * v  # (resolution, 3)
    start = p0 + r0 * ring
    stop = p1 + r1 * ring
    return np.stack([start, stop], axis=0).transpose(2, 0, 1)


def _surfaces(ax, meshes, color, dims, kwargs):
    """Draw (3, 2, res) meshes with `plot_surface` on a 3-D axes, coordinates `dims`."""
    kwargs = dict(kwargs)
    kwargs.pop("edgecolor", None)
    for mesh in meshes:
        ax.plot_surface(*[mesh[d] for d in dims], color=color, **kwargs)
    return ax


def _sphere_surface(center, radius, resolution):
    """(3, res, res) mesh of a sphere (µm)."""
    res = max(int(resolution), 3)
    phi, theta = np.meshgrid(np.linspace(0, np.pi, res), np.linspace(0, 2 * np.pi, res))
    return np.stack(
        [
            center[0] + radius * np.sin(phi) * np.cos(theta),
            center[1] + radius * np.sin(phi) * np.sin(theta),
            center[2] + radius * np.cos(phi),
        ]
    )


def plot_compartments(
    centers,
    directions,
    lengths,
    radii,
    ax=None,
    color="k",
    dims=(0, 1),
    resolution: int = 12,
    **kwargs,
):
    """Each compartment as a cylinder of its true length and radius.

    In 2-D (two ``dims``) a cylinder is drawn as its projected outline (a rectangle); in
    3-D as a surface with ``resolution`` points around its circumference.

    Args:
        centers: (n, 3) compartment centers (µm). directions: (n, 3) unit axis vectors.
        lengths, radii: (n,) µm.
        resolution: points around a cylinder's circumference (3-D; at least 3).
    """
    dims = _check_dims(dims)
    ax = _axes(ax, dims)
    half = 0.5 * np.asarray(lengths)[:, None] * np.asarray(directions)
    ends = [(c - h, c + h, r) for c, h, r in zip(centers, half, radii, strict=True)]
    if len(dims) == 3:
        meshes = [_frustum_surface(a, b, r, r, resolution) for a, b, r in ends]
        return _surfaces(ax, meshes, color, dims, kwargs)
    polys = [_outline(a, b, r, r, dims) for a, b, r in ends]
    return _patches(ax, polys, color, kwargs)


def plot_morph(xyzr, ax=None, color="k", dims=(0, 1), resolution: int = 24, **kwargs):
    """The traced shape: one frustum per traced segment, a sphere for a one-point branch.

    In 2-D frusta are trapezoids (projected outlines) and spheres circles of
    ``resolution`` points; in 3-D both are surfaces with ``resolution`` points around.
    """
    dims = _check_dims(dims)
    ax = _axes(ax, dims)
    polys, meshes = [], []
    for pts in xyzr:
        pts = np.asarray(pts, float)
        if not np.isfinite(pts).all():
            continue
        if len(pts) == 1 or np.allclose(pts[:, :3], pts[0, :3]):  # a sphere
            if len(dims) == 3:
                meshes.append(_sphere_surface(pts[0, :3], pts[0, 3], resolution))
            else:
                polys.append(_circle(pts[0, list(dims)], pts[0, 3], resolution))
            continue
        for k in range(len(pts) - 1):
            a, b, r0, r1 = pts[k, :3], pts[k + 1, :3], pts[k, 3], pts[k + 1, 3]
            if len(dims) == 3:
                meshes.append(_frustum_surface(a, b, r0, r1, resolution))
            else:
                polys.append(_outline(a, b, r0, r1, dims))
    if len(dims) == 3:
        return _surfaces(ax, meshes, color, dims, kwargs)
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
