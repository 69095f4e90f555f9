"""Frustum integrals and equal-length splitting against analytic values and quadrature."""

import numpy as np
import pytest

from dendrax.morphology.geometry import (
    frustum_lateral_area,
    frustum_resistive_load,
    frustum_volume,
    polyline_compartments,
    split_polyline,
)


def test_cylinder_formulas():
    l, r = 7.0, 1.5
    assert frustum_lateral_area(l, r, r) == pytest.approx(2 * np.pi * r * l)
    assert frustum_volume(l, r, r) == pytest.approx(np.pi * r**2 * l)
    assert frustum_resistive_load(l, r, r) == pytest.approx(l / (np.pi * r**2))


@pytest.mark.parametrize("r1,r2", [(1.0, 2.0), (3.0, 0.5), (0.2, 0.21)])
def test_cone_frustum_against_quadrature(r1, r2):
    l = 4.0
    s = np.linspace(0.0, l, 200_001)
    r = r1 + (r2 - r1) * s / l
    slant = np.sqrt(1 + ((r2 - r1) / l) ** 2)
    assert frustum_lateral_area(l, r1, r2) == pytest.approx(
        np.trapezoid(2 * np.pi * r * slant, s), rel=1e-9
    )
    assert frustum_volume(l, r1, r2) == pytest.approx(np.trapezoid(np.pi * r**2, s), rel=1e-9)
    assert frustum_resistive_load(l, r1, r2) == pytest.approx(
        np.trapezoid(1 / (np.pi * r**2), s), rel=1e-8
    )
    assert frustum_resistive_load(l, r1, r2) == pytest.approx(l / (np.pi * r1 * r2))


def test_cone_compartments_match_closed_form():
    """One straight cone (3 traced points) in 3 compartments: each half is a sub-cone."""
    xyzr = np.array([[0, 0, 0, 2.0], [3, 0, 0, 1.4], [9, 0, 0, 0.2]])
    out = polyline_compartments(xyzr, [0, 3], [3])
    knots = np.linspace(0, 9, 7)  # half-compartment boundaries
    rad = np.interp(knots, [0, 3, 9], [2.0, 1.4, 0.2])
    halves_load = [
        np.trapezoid(1 / (np.pi * np.interp(s, [0, 3, 9], [2.0, 1.4, 0.2]) ** 2), s)
        for s in (np.linspace(a, b, 100_001) for a, b in zip(knots[:-1], knots[1:], strict=True))
    ]
    np.testing.assert_allclose(out["resistive_load_in"], halves_load[0::2], rtol=1e-8)
    np.testing.assert_allclose(out["resistive_load_out"], halves_load[1::2], rtol=1e-8)
    area = [
        sum(frustum_lateral_area(1.5, rad[k], rad[k + 1]) for k in (2 * c, 2 * c + 1))
        for c in range(3)
    ]
    np.testing.assert_allclose(out["area"], area, rtol=1e-12)
    np.testing.assert_allclose(out["path_length"], 3.0)
    np.testing.assert_allclose(out["radius"], (rad[0:-1:2] + rad[2::2]) / 2, rtol=1e-12)


def test_single_point_is_a_sphere():
    out = polyline_compartments(np.array([[1.0, 2.0, 3.0, 5.0]]), [0, 1], [2])
    np.testing.assert_allclose(out["area"].sum(), 4 * np.pi * 25)
    np.testing.assert_allclose(out["volume"].sum(), 4 / 3 * np.pi * 125)
    np.testing.assert_allclose(out["radius"], 5.0)


def test_many_polylines_equal_one_at_a_time():
    rng = np.random.default_rng(0)
    lines = [
        np.column_stack([np.cumsum(rng.uniform(0, 3, (k, 3)), 0), rng.uniform(0.2, 2, k)])
        for k in (2, 5, 1, 9)
    ]
    ncomp = np.array([3, 1, 2, 4])
    together = polyline_compartments(
        np.vstack(lines), np.cumsum([0] + [len(x) for x in lines]), ncomp
    )
    alone = [polyline_compartments(x, [0, len(x)], [n]) for x, n in zip(lines, ncomp, strict=True)]
    for key in together:
        np.testing.assert_allclose(together[key], np.concatenate([a[key] for a in alone]))


def test_split_polyline_equal_lengths_and_shared_points():
    xyzr = np.array([[0, 0, 0, 1], [1, 0, 0, 2], [1, 3, 0, 1], [4, 3, 4, 1.0]])
    pieces = split_polyline(xyzr, 4)
    lens = [np.linalg.norm(np.diff(p[:, :3], axis=0), axis=1).sum() for p in pieces]
    np.testing.assert_allclose(lens, 9.0 / 4)
    for a, b in zip(pieces[:-1], pieces[1:], strict=True):
        np.testing.assert_array_equal(a[-1], b[0])
    np.testing.assert_array_equal(pieces[0][0], xyzr[0])
    np.testing.assert_array_equal(pieces[-1][-1], xyzr[-1])
