"""`set_ncomp` refuses what Jaxley 0.14 refuses, with ModelError (a ValueError, and an
AssertionError as Jaxley's asserts), and keeps channel parameters that are uniform."""

import numpy as np
import pytest

import dendrax as jx
from dendrax.channels import HH
from dendrax.errors import ModelError


def _cell(nbranches=3, ncomp=4):
    return jx.Cell(jx.Branch(jx.Compartment(), ncomp=ncomp), parents=[-1] + [0] * (nbranches - 1))


def test_set_ncomp_refuses_a_non_uniform_channel_parameter():
    cell = _cell()
    cell.branch(1).insert(HH())
    cell.branch(1).comp(3).set("HH_gNa", 0.5)
    with pytest.raises(ModelError, match="channel parameter 'HH_gNa'"):
        cell.branch(1).set_ncomp(2)
    # Uniform in the branch: the value is kept (hand-written), other branches stay without HH.
    cell.branch(1).set("HH_gNa", 0.5)
    cell.branch(1).set_ncomp(2)
    cell.branch(0).set_ncomp(2)  # no HH there: its parameters are NaN throughout, allowed
    g_na = cell.nodes["HH_gNa"].to_numpy()  # rows: branch 0 (2), branch 1 (2), branch 2 (4)
    np.testing.assert_array_equal(g_na[2:4], [0.5, 0.5])
    assert np.isnan(g_na[:2]).all() and np.isnan(g_na[4:]).all()
    assert cell.ncomp_per_branch.tolist() == [2, 2, 4]


def test_set_ncomp_guards_are_assertion_errors():
    cell = _cell()
    with pytest.raises(AssertionError, match="whole multi-branch Cell"):
        cell.set_ncomp(2)
    net = jx.Network([_cell(), _cell()])
    with pytest.raises(AssertionError, match="networks"):
        net.cell(0).branch(1).set_ncomp(2)
    cell.branch(0).comp(0).add_to_group("exc")
    with pytest.raises(ModelError, match="'exc' to be the same in the whole branch"):
        cell.branch(0).set_ncomp(2)
    cell.branch(0).comp(0).record(verbose=False)
    with pytest.raises(ModelError, match="recordings"):
        cell.branch(1).set_ncomp(2)
    cell.delete_recordings()
    cell.branch(0).comp(0).stimulate(0.4 * np.ones(100), verbose=False)
    with pytest.raises(ModelError, match="stimuli"):
        cell.branch(1).set_ncomp(2)
