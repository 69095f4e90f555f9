"""set_ncomp, d_lambda, morph_delete, morph_connect and distances."""

import numpy as np
import pytest

import dendrax as jx
from dendrax.channels import HH
from dendrax.morphology import (
    d_lambda_ncomp,
    distance_direct,
    distance_pathwise,
    morph_connect,
    morph_delete,
)
from dendrax.morphology.geometry import polyline_compartments

from .swc_factory import random_tree, write_swc


@pytest.fixture
def swc_cell(tmp_path):
    path = write_swc(tmp_path / "tree.swc", random_tree(3, n_points=80))
    return jx.read_swc(path, 2)


def _scratch_cell(ncomp=2):
    return jx.Cell(jx.Branch(jx.Compartment(), ncomp), parents=[-1, 0, 0, 1])


def test_set_ncomp_on_swc_branch_recomputes_geometry(swc_cell):
    b = 2
    before = swc_cell.branch(b).nodes
    swc_cell.branch(b).set_ncomp(5)
    after = swc_cell.branch(b).nodes
    assert len(after) == 5 and swc_cell.ncomp_per_branch[b] == 5
    assert after["length"].sum() == pytest.approx(before["length"].sum())
    pts = swc_cell.xyzr[b]
    ref = polyline_compartments(pts, np.array([0, len(pts)]), np.array([5]))
    np.testing.assert_allclose(after["area"], ref["area"])
    np.testing.assert_allclose(after["radius"], ref["radius"])
    assert after["area"].sum() == pytest.approx(before["area"].sum())
    assert swc_cell.nodes["global_comp_index"].tolist() == list(range(len(swc_cell.nodes)))


def test_set_ncomp_scratch_branch_and_simulates():
    cell = _scratch_cell()
    cell.branch(1).set_ncomp(4)
    assert cell.ncomp_per_branch.tolist() == [2, 4, 2, 2]
    np.testing.assert_allclose(cell.branch(1).nodes["length"], 5.0)
    cell.insert(HH())
    cell.branch(3).loc(1.0).record(verbose=False)
    v = jx.integrate(cell, t_max=1.0)
    assert np.isfinite(np.asarray(v)).all()


def test_set_ncomp_errors(swc_cell):
    cell = _scratch_cell()
    with pytest.raises(ValueError, match="whole multi-branch Cell"):
        cell.set_ncomp(3)
    with pytest.raises(ValueError, match="one branch at a time"):
        cell.branch([0, 1]).set_ncomp(3)
    with pytest.raises(ValueError, match="positive integer"):
        cell.branch(0).set_ncomp(0)
    cell.branch(0).comp(0).set("radius", 2.0)
    with pytest.raises(ValueError, match="radius"):
        cell.branch(0).set_ncomp(3)
    cell.branch(1).record(verbose=False)
    with pytest.raises(ValueError, match="recordings"):
        cell.branch(2).set_ncomp(3)
    net = jx.Network([_scratch_cell(), _scratch_cell()])
    with pytest.raises(ValueError, match="networks"):
        net.cell(0).branch(0).set_ncomp(3)


def test_d_lambda_ncomp():
    lam = 1e5 * np.sqrt(2.0 / (4 * np.pi * 100 * 100 * 1.0))
    assert d_lambda_ncomp(0.1 * lam * 6.9, 1.0, 100.0, 1.0) == 7  # int((6.9 + 0.9) / 2) * 2 + 1
    assert d_lambda_ncomp(1.0, 1.0, 100.0, 1.0) == 1
    n = d_lambda_ncomp(np.array([10.0, 1000.0]), 1.0, 100.0, 1.0)
    assert n.dtype.kind == "i" and (n % 2 == 1).all() and n[1] > n[0]


def test_morph_delete_and_connect():
    cell = _scratch_cell()
    small = morph_delete(cell.branch([1, 3]))
    assert small.ncomp_per_branch.tolist() == [2, 2]
    assert small.base._branch_parents.tolist() == [-1, 0]
    with pytest.raises(ValueError, match="lose its parent"):
        morph_delete(cell.branch(1))
    joined = morph_connect(cell.branch(3).loc(1.0), small.branch(0).loc(0.0))
    # depth first from the root, as Jaxley numbers the joined cell: 0, 1, 3, small, 2
    assert joined.base._branch_parents.tolist() == [-1, 0, 1, 2, 3, 0]
    assert len(joined.nodes) == 12


def test_distances_on_straight_cable():
    cell = jx.Cell(jx.Branch(jx.Compartment(), 4), parents=[-1, 0])
    cell.compute_xyz()
    start = cell.branch(0).comp(0)
    d_path = distance_pathwise(start, cell.branch("all"))
    np.testing.assert_allclose(d_path, 10.0 * np.arange(8))
    d_direct = distance_direct(start, cell.branch("all"))
    np.testing.assert_allclose(d_direct, 10.0 * np.arange(8), atol=1e-9)
