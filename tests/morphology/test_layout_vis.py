"""compute_xyz, compartment centers, move/move_to/rotate (against numpy), vis to PNG."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import dendrax as jx  # noqa: E402

from .swc_factory import random_tree, write_swc  # noqa: E402


@pytest.fixture
def swc_cell(tmp_path):
    return jx.read_swc(write_swc(tmp_path / "t.swc", random_tree(5, n_points=60)), 3)


def _points(cell):
    return np.concatenate([x[:, :3] for x in cell.xyzr])


def test_compute_xyz_lengths_and_centers():
    cell = jx.Cell(jx.Branch(jx.Compartment(), 2), parents=[-1, 0, 0])
    cell.compute_xyz()
    for pts in cell.xyzr:
        assert np.linalg.norm(pts[-1, :3] - pts[0, :3]) == pytest.approx(20.0)
    cell.compute_compartment_centers()
    np.testing.assert_allclose(cell.nodes["x"][:2], [5.0, 15.0])


def test_compute_xyz_keeps_traced_points_editable(swc_cell):
    """Traced points survive compute_xyz unchanged and stay writable arrays the user can
    edit in place (Jaxley's xyzr is a list of plain arrays)."""
    before = [x.copy() for x in swc_cell.xyzr]
    swc_cell.compute_xyz()
    swc_cell.compute_compartment_centers()
    for old, new in zip(before, swc_cell.xyzr, strict=True):
        np.testing.assert_array_equal(new, old)
        assert new.flags.writeable
    swc_cell.xyzr[0][0, 0] = -7.0
    assert swc_cell.xyzr[0][0, 0] == -7.0


def test_move_and_move_to(swc_cell):
    before = _points(swc_cell)
    swc_cell.move(1.0, -2.0, 3.0, update_nodes=True)
    np.testing.assert_allclose(_points(swc_cell), before + [1.0, -2.0, 3.0])
    swc_cell.move_to(10.0, 20.0, 30.0)
    np.testing.assert_allclose(swc_cell.xyzr[0][0, :3], [10.0, 20.0, 30.0])
    assert np.isfinite(swc_cell.nodes["x"]).all()


@pytest.mark.parametrize("axis,dims", [("xy", (0, 1)), ("xz", (0, 2)), ("yz", (1, 2))])
def test_rotate_matches_numpy(swc_cell, axis, dims):
    """Jaxley's rotate: clockwise about the origin (a, b) -> (a cos + b sin, -a sin + b cos)."""
    before = _points(swc_cell)
    swc_cell.rotate(30.0, rotation_axis=axis)
    t = np.deg2rad(30.0)
    a, b = before[:, dims[0]], before[:, dims[1]]
    expected = before.copy()
    expected[:, dims[0]] = a * np.cos(t) + b * np.sin(t)
    expected[:, dims[1]] = -a * np.sin(t) + b * np.cos(t)
    np.testing.assert_allclose(_points(swc_cell), expected, atol=1e-9)
    with pytest.raises(ValueError, match="rotation_axis"):
        swc_cell.rotate(1.0, rotation_axis="xx")


def test_rotate_quarter_turn_is_clockwise():
    """A point on +x goes to -y under a 90 degree turn (hand-computed), about the origin."""
    pts = np.array([[10.0, 0, 0, 1], [20, 0, 0, 1]])
    cell = jx.Cell(jx.Branch(jx.Compartment(), 1), xyzr=[pts])
    cell.rotate(90.0)
    np.testing.assert_allclose(cell.xyzr[0][:, :3], [[0, -10, 0], [0, -20, 0]], atol=1e-12)


def test_arrange_in_layers():
    cells = [jx.Cell(jx.Branch(jx.Compartment(), 1), parents=[-1, 0]) for _ in range(5)]
    net = jx.Network(cells)
    net.arrange_in_layers([2, 3], within_layer_offset=100.0, between_layer_offset=300.0)
    roots = np.array([net.xyzr[2 * c][0, :3] for c in range(5)])
    np.testing.assert_allclose(roots[:, 1], [0, 0, -300, -300, -300])
    np.testing.assert_allclose(roots[:, 0], [-50, 50, -100, 0, 100])
    with pytest.raises(ValueError, match="sum to 5"):
        net.arrange_in_layers([2, 2])


@pytest.mark.parametrize("kind", ["line", "scatter", "comp", "morph"])
def test_vis_renders_png(swc_cell, tmp_path, kind):
    fig, ax = plt.subplots()
    out = swc_cell.vis(ax=ax, type=kind, color="b")
    assert out is ax
    swc_cell.branch(1).vis(ax=ax, type=kind, color="r")
    fig.savefig(tmp_path / f"{kind}.png")
    plt.close(fig)
    assert (tmp_path / f"{kind}.png").stat().st_size > 1000


def test_vis_3d_and_errors(swc_cell, tmp_path):
    ax = swc_cell.vis(dims=(0, 1, 2))
    ax.figure.savefig(tmp_path / "3d.png")
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="type must be"):
        swc_cell.vis(type="bad")
