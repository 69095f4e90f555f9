"""Frustum geometry of traced neurites, vectorized over many polylines at once.

A traced neurite is a polyline of points ``(x, y, z, r)`` (µm); between two consecutive
points the membrane is a truncated cone (frustum) whose radius varies linearly with path
length. For every compartment we need integrals over a stretch of path:

* lateral area  ``A = Σ π (r₁ + r₂) · sqrt(l² + (r₂ − r₁)²)``            (µm²)
* volume        ``V = Σ π l (r₁² + r₁ r₂ + r₂²) / 3``                     (µm³)
* resistive load ``∫ dl / (π r²) = Σ l / (π r₁ r₂)``                      (1/µm)
* mean radius   ``∫ r dl / ∫ dl`` (the trapezoid rule is exact here)      (µm)

Each polyline is split into ``ncomp`` pieces of equal path length (points inserted by linear
interpolation at the split positions); the resistive load is reported separately for the
proximal and distal half of every compartment.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "frustum_lateral_area",
    "frustum_volume",
    "frustum_resistive_load",
    "polyline_compartments",
    "split_polyline",
]

_CONSTANT_RADIUS_TOL = 1e-8  # |r₂ − r₁| below which a piece is treated as a cylinder (µm)
_MIN_SEGMENT = 1e-14  # guards the interpolation against coincident points (µm)


def frustum_lateral_area(length, r1, r2):
    """Lateral area π(r₁+r₂)·slant of frusta, slant = sqrt(l² + Δr²). Shapes broadcast; µm²."""
    length, r1, r2 = np.asarray(length), np.asarray(r1), np.asarray(r2)
    return np.pi * (r1 + r2) * np.sqrt(length**2 + (r2 - r1) ** 2)


def frustum_volume(length, r1, r2):
    """Volume π l (r₁² + r₁r₂ + r₂²)/3 of frusta. Shapes broadcast; µm³."""
    length, r1, r2 = np.asarray(length), np.asarray(r1), np.asarray(r2)
    return np.pi / 3.0 * length * (r1**2 + r1 * r2 + r2**2)


def frustum_resistive_load(length, r1, r2):
    """Resistive load ∫₀ˡ ds / (π r(s)²) of frusta with linear radius; 1/µm.

    For a cone this is ``l / (π r₁ r₂)``; it is evaluated in the form
    ``l / Δr · (1/r₁ − 1/r₂) / π`` (Jaxley's) and as ``l / (π r₁²)`` when
    ``|Δr| ≤ 1e-8`` µm, so results agree with Jaxley to rounding.
    """
    length, r1, r2 = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (length, r1, r2)))
    dr = r2 - r1
    const = np.abs(dr) <= _CONSTANT_RADIUS_TOL
    safe_dr = np.where(const, 1.0, dr)
    with np.errstate(divide="ignore", invalid="ignore"):
        cone = length / safe_dr * (1.0 / r1 - 1.0 / r2)
        cyl = length / r1**2
    return np.where(const, cyl, cone) / np.pi


def _interp_points(xyzr, gkey, seg, first, last, tkey):
    """Interpolate points at global path keys ``tkey`` inside polylines [first, last]."""
    idx = np.searchsorted(gkey, tkey, side="right") - 1
    idx = np.clip(idx, first, last - 1)
    frac = (tkey - gkey[idx]) / np.maximum(seg[idx], _MIN_SEGMENT)
    return xyzr[idx] + frac[:, None] * (xyzr[idx + 1] - xyzr[idx])


def polyline_compartments(
    xyzr: np.ndarray, offsets: np.ndarray, ncomp: np.ndarray
) -> dict[str, np.ndarray]:
    """Geometry of the compartments of many polylines, split at equal path length.

    Args:
        xyzr: (P, 4) traced points of all polylines, concatenated (µm).
        offsets: (B + 1,) int, polyline b is ``xyzr[offsets[b]:offsets[b + 1]]``; every
            polyline has at least one point.
        ncomp: (B,) int ≥ 1, number of compartments of each polyline.

    Returns:
        dict of (sum(ncomp),) float arrays, ordered polyline by polyline, proximal first:
        ``radius`` (µm), ``area`` (µm²), ``volume`` (µm³), ``resistive_load_in`` and
        ``resistive_load_out`` (1/µm, proximal and distal half), ``path_length`` (µm, the
        traced length of the compartment). A single-point polyline of radius r is a sphere
        shared by its compartments: area 4πr²/ncomp, volume 4πr³/(3 ncomp), loads
        (r/ncomp)/(π r²) (Jaxley's convention).
    """
    xyzr = np.asarray(xyzr, dtype=float)
    offsets = np.asarray(offsets, dtype=np.int64)
    ncomp = np.broadcast_to(np.asarray(ncomp, dtype=np.int64), (len(offsets) - 1,))
    npts = np.diff(offsets)
    if (npts < 1).any() or (ncomp < 1).any():
        raise ValueError("every polyline needs at least one point and one compartment")
    total = int(ncomp.sum())
    out = {k: np.zeros(total) for k in ("radius", "area", "volume", "path_length")}
    out["resistive_load_in"] = np.zeros(total)
    out["resistive_load_out"] = np.zeros(total)

    single = npts == 1
    if single.any():
        b = np.flatnonzero(single)
        comp = np.repeat(b, ncomp[b])
        c_idx = np.flatnonzero(np.repeat(single, ncomp))
        r = xyzr[offsets[comp], 3]
        n = ncomp[comp].astype(float)
        out["radius"][c_idx] = r
        out["area"][c_idx] = 4.0 * np.pi * r**2 / n
        out["volume"][c_idx] = 4.0 / 3.0 * np.pi * r**3 / n
        load = (r / n) / r**2 / np.pi
        out["resistive_load_in"][c_idx] = load
        out["resistive_load_out"][c_idx] = load
    multi = np.flatnonzero(~single)
    if multi.size == 0:
        return out

    # Work on the multi-point polylines only, re-packed contiguously.
    keep = np.flatnonzero(np.repeat(~single, npts))
    pts = xyzr[keep]
    m_npts = npts[multi]
    m_off = np.concatenate([[0], np.cumsum(m_npts)])
    bid = np.repeat(np.arange(len(multi)), m_npts)
    seg = np.linalg.norm(np.diff(pts[:, :3], axis=0), axis=1)
    seg = np.where(bid[1:] == bid[:-1], seg, 0.0)
    seg = np.append(seg, 0.0)  # seg[i] = length from point i to i + 1 (0 across polylines)
    cum = np.concatenate([[0.0], np.cumsum(seg[:-1])])
    start_cum = cum[m_off[:-1]]
    length = cum[m_off[1:] - 1] - start_cum
    gkey = cum + bid  # strictly separates polylines, non-decreasing within one

    # Split targets at half-compartment resolution: 2·ncomp intervals per polyline.
    nhalf = 2 * ncomp[multi]
    t_bid = np.repeat(np.arange(len(multi)), nhalf + 1)
    t_ptr = np.concatenate([[0], np.cumsum(nhalf + 1)])
    t_j = np.arange(len(t_bid)) - t_ptr[t_bid]
    t_local = t_j * (length / nhalf)[t_bid]
    t_local[t_ptr[1:] - 1] = length  # end exactly at the last point
    tkey = t_local + (start_cum + np.arange(len(multi)))[t_bid]
    first, last = m_off[:-1][t_bid], m_off[1:][t_bid] - 1
    tpts = _interp_points(pts, gkey, seg, first, last, tkey)

    # Interior traced points: strictly inside a half interval (points sitting exactly on a
    # split position are replaced by the interpolated split point, as in Jaxley).
    t_of_p = np.searchsorted(tkey, gkey, side="right") - 1
    inside = (tkey[t_of_p] < gkey) & (t_of_p != (t_ptr[1:] - 1)[bid])
    inner = np.flatnonzero(inside)
    half_of_inner = t_of_p[inner] - bid[inner]  # interval index, global over halves

    is_start = np.ones(len(t_bid), bool)
    is_start[t_ptr[1:] - 1] = False
    starts = np.flatnonzero(is_start)
    half_of_start = starts - t_bid[starts]
    n_half = int(nhalf.sum())
    rec_half = np.concatenate([half_of_start, half_of_inner, half_of_start])
    rec_kind = np.concatenate(
        [np.zeros(len(starts)), np.ones(len(inner)), np.full(len(starts), 2.0)]
    )
    rec_pos = np.concatenate([np.zeros(len(starts)), gkey[inner], np.zeros(len(starts))])
    rec_pts = np.concatenate([tpts[starts], pts[inner], tpts[starts + 1]])
    order = np.lexsort((rec_pos, rec_kind, rec_half))
    rec_half, rec_pts = rec_half[order], rec_pts[order]

    piece = np.flatnonzero(rec_half[1:] == rec_half[:-1])
    p0, p1 = rec_pts[piece], rec_pts[piece + 1]
    h = rec_half[piece]
    lens = np.linalg.norm(p1[:, :3] - p0[:, :3], axis=1)
    r1, r2 = p0[:, 3], p1[:, 3]

    def per_half(values):
        return np.bincount(h, weights=values, minlength=n_half)

    h_len = per_half(lens)
    h_rl = per_half(lens * 0.5 * (r1 + r2))
    h_area = per_half(frustum_lateral_area(lens, r1, r2))
    h_vol = per_half(frustum_volume(lens, r1, r2))
    h_load = per_half(frustum_resistive_load(lens, r1, r2))
    h_rmean = per_half(0.5 * (r1 + r2))
    h_count = np.bincount(h, minlength=n_half)

    c_len = h_len[0::2] + h_len[1::2]
    c_rl = h_rl[0::2] + h_rl[1::2]
    # A zero-length compartment has no length weights: fall back to the plain mean radius.
    plain = (h_rmean[0::2] + h_rmean[1::2]) / np.maximum(h_count[0::2] + h_count[1::2], 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        radius = np.where(c_len > 0, c_rl / np.where(c_len > 0, c_len, 1.0), plain)

    c_idx = np.flatnonzero(np.repeat(~single, ncomp))
    out["radius"][c_idx] = radius
    out["area"][c_idx] = h_area[0::2] + h_area[1::2]
    out["volume"][c_idx] = h_vol[0::2] + h_vol[1::2]
    out["resistive_load_in"][c_idx] = h_load[0::2]
    out["resistive_load_out"][c_idx] = h_load[1::2]
    out["path_length"][c_idx] = c_len
    return out


def split_polyline(xyzr: np.ndarray, ncomp: int) -> list[np.ndarray]:
    """Split one polyline into ``ncomp`` pieces of equal path length.

    Args:
        xyzr: (n, 4) traced points (µm).
        ncomp: number of pieces.

    Returns:
        list of ``ncomp`` (k_i, 4) arrays; consecutive pieces share their split point, which
        is linearly interpolated (x, y, z and radius). A single point is repeated.
    """
    xyzr = np.asarray(xyzr, dtype=float)
    if len(xyzr) == 1:
        return [xyzr.copy() for _ in range(ncomp)]
    seg = np.linalg.norm(np.diff(xyzr[:, :3], axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    targets = np.linspace(0.0, cum[-1], ncomp + 1)
    split = _interp_points(
        xyzr,
        cum,
        np.append(seg, 0.0),
        np.zeros(ncomp + 1, int),
        np.full(ncomp + 1, len(xyzr) - 1),
        targets,
    )
    which = np.searchsorted(targets, cum, side="right") - 1
    inside = (targets[np.minimum(which, ncomp)] < cum) & (which < ncomp)
    return [np.vstack([split[k], xyzr[inside & (which == k)], split[k + 1]]) for k in range(ncomp)]
