"""SWC -> branches -> compartments: Jaxley's rules on small hand-checked cases."""

import time
import warnings

import numpy as np
import pytest

from dendrax.io.swc import read_morphology_arrays
from dendrax.morphology import Morphology

from .swc_factory import random_tree, requires_swc_dir, shared_swc, write_swc


def _read(path, ncomp, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_morphology_arrays(path, ncomp, **kw)


def test_type_change_and_branching(tmp_path):
    # soma (2 points) -> axon tip and basal tip from soma point 2.
    table = np.array(
        [
            [1, 1, 0, 0, 0, 0.5, -1],
            [2, 1, 0, 0, 1, 0.5, 1],
            [3, 2, 0, 0, 2, 0.1, 2],
            [4, 3, 0, 0, 3, 0.1, 2],
        ]
    )
    m = _read(write_swc(tmp_path / "a.swc", table), 2)
    np.testing.assert_array_equal(m.parents, [-1, 0, 0])
    np.testing.assert_array_equal(m.branch_type_id, [1, 2, 3])
    np.testing.assert_allclose(m.branch_length, [1, 1, 2])
    # the first point of a neurite takes the neurite's radius, not the soma's
    np.testing.assert_allclose(m.xyzr[1][:, 3], [0.1, 0.1])
    np.testing.assert_allclose(m.area, [np.pi / 2] * 2 + [np.pi * 0.1] * 2 + [np.pi * 0.2] * 2)
    assert isinstance(m, Morphology) and m.n_comps == 6


def test_single_point_soma_is_a_sphere(tmp_path):
    table = np.array([[1, 1, 0, 0, 0, 3, -1], [2, 3, 4, 0, 0, 1, 1], [3, 3, 9, 0, 0, 1, 2]])
    m = _read(write_swc(tmp_path / "b.swc", table), 3)
    assert m.branch_type_id[0] == 1
    np.testing.assert_allclose(m.area[:3].sum(), 4 * np.pi * 9)
    np.testing.assert_allclose(m.length[:3].sum(), 6.0)
    # the dendrite starts at its own first point (the soma point is not part of it)
    np.testing.assert_allclose(m.branch_length[1], 5.0)
    np.testing.assert_allclose(m.area[3:].sum(), 2 * np.pi * 5)


def test_zero_length_branch_is_capped(tmp_path):
    table = np.array(
        [
            [1, 1, 0, 0, 0, 3, -1],
            [2, 3, 4, 0, 0, 1, 1],
            [3, 4, 0, 4, 0, 1, 1],
            [4, 4, 0, 9, 0, 1, 3],
        ]
    )
    with pytest.warns(UserWarning, match="length 0"):
        m = read_morphology_arrays(write_swc(tmp_path / "c.swc", table), 1)
    assert np.isclose(m.branch_length, 0.1).sum() == 1


def test_max_branch_len_and_relevant_types(tmp_path):
    xs = np.arange(11) * 10.0
    table = np.column_stack(
        [
            np.arange(1, 12),
            [3] * 5 + [7] * 6,
            xs,
            0 * xs,
            0 * xs,
            np.ones(11),
            np.arange(0, 11) - (np.arange(11) == 0),
        ]
    )
    path = write_swc(tmp_path / "d.swc", table)
    assert _read(path, 1).n_branches == 2  # type 3 -> 7 splits (7 not relevant, 3 is)
    assert _read(path, 1, relevant_type_ids=[1, 2, 4]).n_branches == 1
    m = _read(path, 2, max_branch_len=30.0, relevant_type_ids=[1])
    assert m.n_branches == 4 and m.branch_length.max() <= 30.0 + 1e-9
    np.testing.assert_allclose(m.branch_length.sum(), 100.0)
    np.testing.assert_array_equal(m.parents, [-1, 0, 1, 2])


def test_min_radius_clamps_radius_only(tmp_path):
    table = np.array([[1, 3, 0, 0, 0, 0.1, -1], [2, 3, 5, 0, 0, 0.1, 1]])
    path = write_swc(tmp_path / "e.swc", table)
    plain, clamped = _read(path, 2), _read(path, 2, min_radius=0.5)
    np.testing.assert_allclose(clamped.radius, 0.5)
    np.testing.assert_allclose(clamped.area, plain.area)  # as in Jaxley (#741)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("ncomp", [1, 3])
def test_random_trees_invariants(tmp_path, seed, ncomp):
    table = random_tree(seed, n_points=80)
    m = _read(write_swc(tmp_path / "r.swc", table), ncomp)
    assert np.all(m.parents[1:] < np.arange(1, m.n_branches))
    # total traced length: every edge once, except soma links (length 0) -> plus 2 r_soma
    xyz, parent = table[:, 2:5], table[:, 6].astype(int)
    edge = np.linalg.norm(xyz[1:] - xyz[parent[1:] - 1], axis=1)
    expected = edge[parent[1:] != 1].sum() + 2 * table[0, 5]
    np.testing.assert_allclose(m.branch_length.sum(), expected, rtol=1e-12)
    for key in ("area", "volume", "resistive_load_in", "resistive_load_out", "radius"):
        assert np.all(np.isfinite(getattr(m, key)) & (getattr(m, key) > 0)), key
    # compartments per branch add up to the branch geometry, whatever ncomp is
    one = _read(tmp_path / "r.swc", 1)
    np.testing.assert_allclose(np.add.reduceat(m.area, m.comp_offsets[:-1]), one.area)
    np.testing.assert_allclose(np.add.reduceat(m.volume, m.comp_offsets[:-1]), one.volume)


@requires_swc_dir
def test_somatic_branchpoint_rules():
    m = _read(shared_swc("morph_somatic_branchpoint.swc"), 1)
    np.testing.assert_array_equal(m.parents, [-1, 0, 1, 0])
    np.testing.assert_array_equal(m.branch_type_id, [2, 1, 3, 1])
    np.testing.assert_allclose(m.branch_length, [1, 1, 5, 2])


@requires_swc_dir
@pytest.mark.parametrize(
    "name,limit", [("morph_ca1_n120.swc", 0.1), ("morph_l5pc_with_axon.swc", 0.5)]
)
def test_import_is_fast(name, limit):
    """Loose guard (10x the target) so slow CI machines do not fail; bench/ reports."""
    _read(shared_swc(name), 4)
    t0 = time.perf_counter()
    m = _read(shared_swc(name), 4)
    assert time.perf_counter() - t0 < 10 * limit
    assert m.n_comps == 4 * m.n_branches


@requires_swc_dir
def test_shared_multiple_roots_file_has_a_duplicate_id():
    from dendrax.morphology import SWCError

    with pytest.raises(SWCError, match=r"line 9: duplicate point id 3"):
        read_morphology_arrays(shared_swc("morph_multiple_roots.swc"), 1)


def test_read_swc_returns_a_cell(tmp_path):
    cell_module = pytest.importorskip("dendrax.modules.cell")
    if not hasattr(cell_module.Cell, "_from_morphology"):
        pytest.skip("Cell._from_morphology is not available yet")
    from dendrax.io.swc import read_swc

    path = write_swc(tmp_path / "cell.swc", random_tree(0, n_points=40))
    assert isinstance(read_swc(path, 2), cell_module.Cell)
