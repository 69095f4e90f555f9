"""`make_trainable` sharing rules, printed counts, trainable initial states, bookkeeping and
bad input (parameter lists and transform trees that do not match `get_parameters()`)."""

import jax.numpy as jnp
import numpy as np
import pytest

import dendrax as jx
from dendrax.optimize import ParamTransform
from dendrax.optimize.transforms import SigmoidTransform, SoftplusTransform
from tests.training_workflow._cells import DT, T_MAX, hh_cell, stimulated_cell


def _network():
    """Two cells of 3 branches x 2 comps: global comps 0-5 (cell 0) and 6-11 (cell 1)."""
    net = jx.Network([hh_cell(init=False), hh_cell(init=False)])
    net.cell(1).branch(2).add_to_group("dend")
    return net


def _rows(net, position):
    rows = net.indices_set_by_trainables[position]
    return [sorted(np.asarray(r).tolist()) for r in rows]


@pytest.mark.parametrize(
    ("select", "key", "expected_rows"),
    [
        (lambda n: n, "radius", [list(range(12))]),
        (lambda n: n.cell("all"), "length", [list(range(6)), list(range(6, 12))]),
        (lambda n: n.cell(1), "length", [list(range(6, 12))]),
        (lambda n: n.cell(0).branch("all"), "HH_gNa", [[0, 1], [2, 3], [4, 5]]),
        (lambda n: n.cell(0).branch(1), "HH_gNa", [[2, 3]]),
        (lambda n: n.cell(1).branch(1).comp("all"), "HH_gK", [[8], [9]]),
        (lambda n: n.cell("all").branch(0).comp(1), "HH_gK", [[1], [7]]),
        (lambda n: n.cell(0).branch("all").loc(0.0), "HH_eNa", [[0], [2], [4]]),
        (lambda n: n.select(nodes=[0, 5, 7]), "HH_eK", [[0], [5], [7]]),
        (lambda n: n.dend, "capacitance", [[10, 11]]),
        (lambda n: n.dend.comp("all"), "capacitance", [[10], [11]]),
        (lambda n: n.cell(0).branch(2).comp(0), "v", [[4]]),
    ],
)
def test_sharing_rules(select, key, expected_rows):
    net = _network()
    select(net).make_trainable(key, verbose=False)
    params = net.get_parameters()
    assert len(params) == 1 and list(params[0]) == [key]
    assert params[0][key].shape == (len(expected_rows),)
    assert net.num_trainable_params == len(expected_rows)
    assert _rows(net, 0) == expected_rows


def test_printed_counts(capsys):
    net = _network()
    net.cell("all").branch("all").make_trainable("HH_gNa")
    assert capsys.readouterr().out.strip() == (
        "Number of newly added trainable parameters: 6. Total number of trainable parameters: 6"
    )
    net.make_trainable("radius")
    assert capsys.readouterr().out.strip() == (
        "Number of newly added trainable parameters: 1. Total number of trainable parameters: 7"
    )
    net.make_trainable("length", verbose=False)
    assert capsys.readouterr().out == ""


def test_init_values_default_to_mean_and_accept_lists():
    net = _network()
    net.cell(0).branch(1).comp(0).set("HH_gNa", 0.2)
    net.cell(0).branch("all").make_trainable("HH_gNa", verbose=False)
    np.testing.assert_allclose(net.get_parameters()[0]["HH_gNa"], [0.12, 0.16, 0.12])
    net.cell("all").make_trainable("radius", init_val=[0.5, 2.0], verbose=False)
    net.make_trainable("length", init_val=7.0, verbose=False)
    np.testing.assert_allclose(net.get_parameters()[1]["radius"], [0.5, 2.0])
    np.testing.assert_allclose(net.get_parameters()[2]["length"], [7.0])
    with pytest.raises(ValueError, match="shape"):
        net.cell("all").make_trainable("radius", init_val=[1.0, 2.0, 3.0], verbose=False)
    with pytest.raises(KeyError, match="HH_gNaa"):
        net.make_trainable("HH_gNaa", verbose=False)


def test_delete_and_write_trainables():
    net = _network()
    net.cell(0).branch("all").make_trainable("HH_gNa", verbose=False)
    net.cell(1).make_trainable("radius", verbose=False)
    net.cell(1).delete_trainables()
    assert [list(p) for p in net.get_parameters()] == [["HH_gNa"]]
    net.cell(1).make_trainable("radius", verbose=False)
    net.write_trainables([{"HH_gNa": jnp.array([0.1, 0.2, 0.3])}, {"radius": jnp.array([2.0])}])
    np.testing.assert_allclose(net.nodes["HH_gNa"][:6], [0.1, 0.1, 0.2, 0.2, 0.3, 0.3])
    np.testing.assert_allclose(net.nodes["radius"], [1.0] * 6 + [2.0] * 6)
    assert net.get_parameters() == [] and net.num_trainable_params == 0
    with pytest.raises(ValueError, match="base modules"):
        net.cell(0).write_trainables([])
    net.make_trainable("radius", verbose=False)
    net.delete_trainables()
    assert net.num_trainable_params == 0


def test_trainable_parameters_and_initial_states_equal_set():
    """Per-branch gNa, and initial v and HH_m as trainables ≡ setting them before integrate."""
    values = {"HH_gNa": [0.1, 0.15, 0.2], "v": [-62.0], "HH_m": [0.3, 0.1]}
    cell = stimulated_cell()
    cell.branch("all").make_trainable("HH_gNa", verbose=False)
    cell.branch(0).comp(1).make_trainable("v", verbose=False)
    cell.branch(2).comp("all").make_trainable("HH_m", verbose=False)
    params = [{k: jnp.asarray(v)} for k, v in values.items()]
    out = np.asarray(jx.integrate(cell, params=params, t_max=T_MAX, delta_t=DT))

    reference = stimulated_cell()
    reference.set("HH_gNa", np.repeat(values["HH_gNa"], 2))
    reference.branch(0).comp(1).set("v", -62.0)
    reference.branch(2).set("HH_m", np.array(values["HH_m"]))
    np.testing.assert_allclose(
        out, np.asarray(jx.integrate(reference, t_max=T_MAX, delta_t=DT)), rtol=0, atol=1e-12
    )
    # the default parameters reproduce the untrained simulation
    untrained = np.asarray(
        jx.integrate(cell, params=cell.get_parameters(), t_max=T_MAX, delta_t=DT)
    )
    np.testing.assert_allclose(
        untrained, np.asarray(jx.integrate(stimulated_cell(), t_max=T_MAX, delta_t=DT)), atol=1e-12
    )


def _two_trainables():
    cell = hh_cell()
    cell.branch(0).comp(0).record(verbose=False)
    cell.branch("all").make_trainable("HH_gNa", verbose=False)
    cell.make_trainable("radius", verbose=False)
    return cell


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ([{"HH_gNa": jnp.ones(3)}], ValueError, "2 trainables"),
        ([{"radius": jnp.ones(1)}, {"HH_gNa": jnp.ones(3)}], ValueError, "HH_gNa"),
        ([{"HH_gNa": jnp.ones(2)}, {"radius": jnp.ones(1)}], ValueError, r"expected \(3,\)"),
        ([{"HH_gNa": jnp.ones(3), "radius": jnp.ones(1)}, {}], ValueError, "params\\[0\\]"),
        ({"HH_gNa": jnp.ones(3)}, TypeError, "list of dicts"),
    ],
)
def test_params_not_matching_get_parameters_raise(params, error, match):
    cell = _two_trainables()
    with pytest.raises(error, match=match):
        jx.integrate(cell, params=params, t_max=0.1, delta_t=DT)


def test_write_trainables_checks_structure():
    cell = _two_trainables()
    with pytest.raises(ValueError, match="trainables"):
        cell.write_trainables([{"HH_gNa": jnp.ones(3)}])


def test_transform_tree_of_wrong_structure_raises():
    cell = _two_trainables()
    params = cell.get_parameters()
    too_short = ParamTransform([{"HH_gNa": SigmoidTransform(0.0, 1.0)}])
    wrong_key = ParamTransform(
        [{"HH_gNa": SigmoidTransform(0.0, 1.0)}, {"length": SoftplusTransform(0.0)}]
    )
    for transform in (too_short, wrong_key):
        with pytest.raises(ValueError, match="structure"):
            transform.inverse(params)
    with pytest.raises(TypeError, match="transforms"):
        ParamTransform([{"HH_gNa": 3.0}])
