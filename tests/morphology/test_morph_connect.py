"""morph_connect at any branch end: Jaxley's layout, and physics unchanged by re-rooting.

The expected layouts below were produced by running Jaxley 0.14's ``morph_connect`` on the
same cells (compartment ``k`` of the first cell has radius 1 + 0.01 k, of the second cell
5 + 0.01 k, so each joined branch shows which branch it came from and in which direction).
"""

import jax
import numpy as np
import pytest

import dendrax as jx
from dendrax.channels import HH
from dendrax.morphology import morph_connect

from .swc_factory import random_tree, write_swc

jax.config.update("jax_enable_x64", True)


def _labelled(parents, first_radius, ncomp=2):
    cell = jx.Cell(jx.Branch(jx.Compartment(), ncomp=ncomp), parents=parents)
    cell.set("radius", first_radius + 0.01 * np.arange(len(cell.nodes)))
    return cell


# (parents 1, view 1, parents 2, view 2) -> (joined parents, radii of each joined branch)
JAXLEY_LAYOUTS = [
    (
        ([-1, 0, 0], (0, 0.0), [-1, 0, 0, 1], (0, 0.0)),
        [-1, 0, 1, 2, 3, 2, 0],
        [
            [1.03, 1.02],
            [1.01, 1.0],
            [5.0, 5.01],
            [5.02, 5.03],
            [5.06, 5.07],
            [5.04, 5.05],
            [1.04, 1.05],
        ],
    ),
    (
        ([-1, 0, 0], (1, 1.0), [-1, 0, 0, 1], (2, 1.0)),
        [-1, 0, 1, 2, 2, 4, 0],
        [
            [1.0, 1.01],
            [1.02, 1.03],
            [5.05, 5.04],
            [5.01, 5.0],
            [5.02, 5.03],
            [5.06, 5.07],
            [1.04, 1.05],
        ],
    ),
    (
        ([-1, 0, 0], (1, 1.0), [-1, 0, 0, 1], (1, 0.0)),
        [-1, 0, 1, 1, 3, 1, 0],
        [
            [1.0, 1.01],
            [1.02, 1.03],
            [5.01, 5.0],
            [5.02, 5.03],
            [5.06, 5.07],
            [5.04, 5.05],
            [1.04, 1.05],
        ],
    ),
    (
        ([-1, 0, 0], (2, 0.0), [-1, 0, 0, 1], (0, 1.0)),
        [-1, 0, 0, 0, 0, 4, 0],
        [
            [1.0, 1.01],
            [1.02, 1.03],
            [1.04, 1.05],
            [5.01, 5.0],
            [5.02, 5.03],
            [5.06, 5.07],
            [5.04, 5.05],
        ],
    ),
    (
        ([-1, 0, 0, 1], (0, 0.0), [-1], (0, 0.0)),
        [-1, 0, 1, 0, 3],
        [[1.05, 1.04], [1.01, 1.0], [5.0, 5.01], [1.02, 1.03], [1.06, 1.07]],
    ),
    (
        ([-1, 0, 0, 1], (0, 0.0), [-1, 0, 0], (1, 1.0)),
        [-1, 0, 1, 2, 2, 0, 5],
        [
            [1.05, 1.04],
            [1.01, 1.0],
            [5.03, 5.02],
            [5.01, 5.0],
            [5.04, 5.05],
            [1.02, 1.03],
            [1.06, 1.07],
        ],
    ),
    (
        ([-1, 0, 0, 1], (3, 1.0), [-1, 0, 0], (0, 0.0)),
        [-1, 0, 1, 2, 3, 3, 0],
        [
            [1.0, 1.01],
            [1.02, 1.03],
            [1.06, 1.07],
            [5.0, 5.01],
            [5.02, 5.03],
            [5.04, 5.05],
            [1.04, 1.05],
        ],
    ),
    (
        ([-1, 0], (0, 0.0), [-1, 0], (1, 1.0)),
        [-1, 0, 1, 2],
        [[1.03, 1.02], [1.01, 1.0], [5.03, 5.02], [5.01, 5.0]],
    ),
]


@pytest.mark.parametrize("case, parents, radii", JAXLEY_LAYOUTS)
def test_layout_matches_jaxley(case, parents, radii):
    p1, (b1, at1), p2, (b2, at2) = case
    first, second = _labelled(p1, 1.0), _labelled(p2, 5.0)
    joined = morph_connect(first.branch(b1).loc(at1), second.branch(b2).loc(at2))
    assert joined.base._branch_parents.tolist() == parents
    got = joined.nodes.groupby("global_branch_index")["radius"].apply(list).tolist()
    np.testing.assert_allclose(np.concatenate(got), np.concatenate(radii), atol=1e-12)
    assert [len(r) for r in got] == [len(r) for r in radii]


def test_one_compartment_branches_use_the_loc_end():
    first, second = _labelled([-1, 0, 0], 1.0, ncomp=1), _labelled([-1], 5.0, ncomp=1)
    at_start = morph_connect(first.branch(2).loc(0.0), second.branch(0).loc(0.0))
    at_end = morph_connect(first.branch(2).loc(1.0), second.branch(0).loc(0.0))
    assert at_start.base._branch_parents.tolist() == [-1, 0, 0, 0]  # beside branch 2
    assert at_end.base._branch_parents.tolist() == [-1, 0, 0, 2]  # beyond branch 2


def test_bad_attachment_points_raise():
    first, second = _labelled([-1, 0], 1.0, ncomp=4), _labelled([-1], 5.0)
    with pytest.raises(ValueError, match="branch end"):
        morph_connect(first.branch(1).loc(0.5), second.branch(0).loc(0.0))
    with pytest.raises(ValueError, match="one compartment"):
        morph_connect(first.branch(1), second.branch(0).loc(0.0))


def _swc_cell(tmp_path, seed):
    path = write_swc(tmp_path / f"tree{seed}.swc", random_tree(seed, n_points=60))
    return jx.read_swc(path, 2)


def _traces(cell, keys, stim_key):
    """Voltages of the compartments whose (area, volume) are `keys`, stimulating `stim_key`."""
    table = np.stack([cell.nodes["area"], cell.nodes["volume"]], axis=1)

    def row(key):
        (match,) = np.flatnonzero(np.all(np.isclose(table, key, rtol=1e-13, atol=0), axis=1))
        return int(match)

    cell.insert(HH())
    cell.select(nodes=row(stim_key)).stimulate(jx.step_current(1.0, 5.0, 0.3, 0.025, 10.0))
    for key in keys:
        cell.select(nodes=row(key)).record("v", verbose=False)
    return jx.integrate(cell, t_max=10.0, delta_t=0.025)


def test_rerooted_traced_cells_simulate_alike(tmp_path):
    """The same two SWC cells joined root to root, first-then-second or second-then-first.

    Each order re-roots (and so reverses) the path to a tip of a different cell; with the
    traced, tapered geometry the proximal and distal resistive loads differ, so the traces
    agree only if reversed branches swap them correctly.
    """
    a, b = _swc_cell(tmp_path, 3), _swc_cell(tmp_path, 4)
    ab = morph_connect(a.branch(0).loc(0.0), b.branch(0).loc(0.0))
    ba = morph_connect(
        _swc_cell(tmp_path, 4).branch(0).loc(0.0), _swc_cell(tmp_path, 3).branch(0).loc(0.0)
    )
    assert len(ab.nodes) == len(ba.nodes) == len(a.nodes) + len(b.nodes)
    loads_in = np.asarray(ab.nodes["resistive_load_in"])
    assert not np.allclose(loads_in, ab.nodes["resistive_load_out"], rtol=1e-3)  # tapered
    table = np.stack([ab.nodes["area"], ab.nodes["volume"]], axis=1)
    unique = [
        key
        for key in table
        if np.sum(np.all(np.isclose(table, key, rtol=1e-13, atol=0), axis=1)) == 1
    ]
    keys = [unique[0], unique[len(unique) // 3], unique[len(unique) // 2], unique[-1]]
    v_ab = _traces(ab, keys, keys[0])
    v_ba = _traces(ba, keys, keys[0])
    assert np.ptp(v_ab[0]) > 20.0  # the stimulated compartment spikes
    np.testing.assert_allclose(v_ab, v_ba, atol=1e-9)
