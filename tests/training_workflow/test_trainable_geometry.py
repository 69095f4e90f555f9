"""A trainable radius of a traced (SWC) cell and its geometry, as in Jaxley: `make_trainable`
alone changes nothing; passing the values turns the compartments into cylinders."""

import numpy as np

import dendrax as jx
from dendrax.channels import HH
from tests.morphology.swc_factory import random_tree, write_swc


def _cell(path, trainable: bool):
    cell = jx.read_swc(str(path), ncomp=2)
    cell.insert(HH())
    cell.branch(0).loc(0.0).stimulate(jx.step_current(0.5, 3.0, 0.05, 0.025, 5.0), verbose=False)
    cell.branch(cell.shape[0] - 1).loc(1.0).record(verbose=False)
    if trainable:
        cell.branch("all").make_trainable("radius", verbose=False)
    return cell


def test_a_trainable_radius_changes_swc_geometry_only_when_its_values_are_passed(tmp_path):
    path = write_swc(tmp_path / "tree.swc", random_tree(3, n_points=40))
    untrained = np.asarray(jx.integrate(_cell(path, False), t_max=5.0))
    trained = _cell(path, True)
    # Jaxley 0.14 gives the untrained trace here (frustum areas kept; dendrax used to switch
    # to cylinders as soon as the radius was trainable)
    np.testing.assert_array_equal(np.asarray(jx.integrate(trained, t_max=5.0)), untrained)

    params = trained.get_parameters()
    passed = np.asarray(jx.integrate(trained, params=params, t_max=5.0))
    # the reference: the same values written into the tables, whose numpy path makes the
    # compartments cylinders of the per-branch radius
    written = _cell(path, True)
    written.write_trainables(params)
    np.testing.assert_allclose(passed, np.asarray(jx.integrate(written, t_max=5.0)), atol=1e-10)
    assert np.abs(passed - untrained).max() > 1e-3  # the geometry did change
