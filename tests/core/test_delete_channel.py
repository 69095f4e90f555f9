"""`Module.delete(channel)` as in Jaxley 0.14: a channel leaves the compartments in view, its
parameters and states become NaN there (or leave the node table when it is gone everywhere),
and names shared with other inserted channels are kept."""

import numpy as np
import pytest

import dendrax as jx
from dendrax.channels import HH, K, Leak, Na
from dendrax.errors import ModelError

from .leaky_reference import backward_euler_leak


def test_deleted_channel_leaves_a_passive_compartment_matching_backward_euler():
    """Leak + K, then K deleted: the voltage is the leak's backward-Euler recursion (numpy)."""
    comp = jx.Compartment()
    comp.insert(Leak())
    comp.insert(K())
    comp.delete(K())
    assert [c.name for c in comp.channels] == ["Leak"]
    assert not any(col.startswith("K") or col in ("eK", "vt") for col in comp.nodes.columns)
    assert comp.membrane_current_names == ["i_Leak"]
    comp.set("v", -50.0)
    comp.record("v", verbose=False)
    v = np.asarray(jx.integrate(comp, t_max=5.0, delta_t=0.025))[0]
    expected = backward_euler_leak(-50.0, 1e-4, -70.0, v.size - 1, 0.025)
    np.testing.assert_allclose(v, expected, rtol=0, atol=1e-10)


def test_delete_in_part_of_a_branch_blanks_only_the_view():
    """Hand-written expectations for the node table after deleting Leak from comp 1, then 2."""
    branch = jx.Branch(jx.Compartment(), ncomp=3)
    branch.insert(HH())
    branch.comp([1, 2]).insert(Leak())
    branch.comp(1).delete(Leak())
    nodes = branch.nodes
    np.testing.assert_array_equal(nodes["Leak"], [False, False, True])
    np.testing.assert_array_equal(np.isnan(nodes["Leak_gLeak"]), [True, True, False])
    assert nodes["Leak_gLeak"][2] == 1e-4 and nodes["Leak_eLeak"][2] == -70.0
    # A view lists only the channels inserted in it (Jaxley's `View.channels`).
    assert [c.name for c in branch.comp(1).channels] == ["HH"]
    assert branch.comp(1).membrane_current_names == ["i_HH"]
    assert [c.name for c in branch.comp(2).channels] == ["HH", "Leak"]
    branch.comp(2).delete(Leak())
    assert [c.name for c in branch.channels] == ["HH"]
    assert not {"Leak", "Leak_gLeak", "Leak_eLeak"} & set(branch.nodes.columns)


def test_delete_keeps_parameters_that_another_channel_declares():
    """K and Na share `vt`: deleting K drops `K_gK` and `eK` but keeps `vt` and its value."""
    cell = jx.Cell(jx.Branch(jx.Compartment(), ncomp=2), parents=[-1])
    cell.insert(K())
    cell.insert(Na())
    cell.set("vt", -55.0)
    cell.delete(K())
    cols = set(cell.nodes.columns)
    assert "K_gK" not in cols and "eK" not in cols and "K_n" not in cols
    np.testing.assert_array_equal(cell.nodes["vt"], [-55.0, -55.0])

    # Two renamed channels sharing one parameter name (Jaxley's own scenario).
    na1, na2 = Na("Na1"), Na("Na2")
    for ch in (na1, na2):
        ch.channel_params["shared_gNa"] = ch.channel_params.pop(f"{ch.name}_gNa")
    cell = jx.Cell(jx.Branch(jx.Compartment(), ncomp=2), parents=[-1])
    cell.insert(na1)
    cell.insert(na2)
    cell.comp(0).delete(na1)
    np.testing.assert_array_equal(cell.nodes["shared_gNa"], [0.05, 0.05])
    cell.delete(na1)
    cell.delete(na2)
    assert "shared_gNa" not in cell.nodes.columns


def test_delete_errors():
    branch = jx.Branch(jx.Compartment(), ncomp=2)
    branch.comp(0).insert(Leak())
    with pytest.raises(AssertionError, match="not inserted in any compartment in view"):
        branch.comp(1).delete(Leak())
    with pytest.raises(TypeError, match="Channel instance"):
        branch.delete("Leak")
    branch.comp(0).record("v", verbose=False)
    branch.comp(0).make_trainable("Leak_gLeak", verbose=False)
    with pytest.raises(ModelError, match="trainable uses its 'Leak_gLeak'"):
        branch.delete(Leak())
    branch.delete_trainables()
    branch.delete(Leak())  # recording `v` does not depend on the channel
    assert branch.channels == []
