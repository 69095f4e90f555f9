"""Sequential: naming, indexing, shape checks, printing, jit/grad, set_attributes round trip."""

from collections import OrderedDict

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dendrax.nn import (
    LIF,
    Instant,
    InstantJax,
    Linear,
    LinearJax,
    Rate,
    RateJax,
    Sequential,
)
from dendrax.nn.combinators import Sequential as SequentialFromCombinators
from dendrax.nn.modules import LIFJax
from dendrax.nn.modules import RateJax as RateJaxFromModules

pytestmark = pytest.mark.usefixtures("x64")


def _net():
    return Sequential(
        Linear((2, 5), rng_key=0),
        Instant(5, jnp.tanh),
        Rate(5, tau=15e-3),
        Linear((5, 3), rng_key=1),
    )


def test_import_paths_mirror_rockpool():
    assert SequentialFromCombinators is Sequential
    assert RateJaxFromModules is RateJax
    assert issubclass(LIFJax, LIF) and issubclass(LinearJax, Linear)


def test_names_indexing_and_repr():
    net = _net()
    assert list(net.modules()) == ["0_Linear", "1_Instant", "2_Rate", "3_Linear"]
    assert net[2] is net["2_Rate"]
    assert net[-1].shape == (5, 3) and net.shape == (2, 3) and len(net) == 4
    rp = Sequential(LinearJax((2, 4)), InstantJax(4), RateJax(4))
    assert list(rp.modules()) == ["0_LinearJax", "1_InstantJax", "2_RateJax"]
    text = repr(net)
    assert text.splitlines()[0] == "Sequential with shape (2, 3) {"
    assert "    Rate '2_Rate' with shape (5,)" in text and text.endswith("}")
    named = Sequential(OrderedDict(inp=Linear((2, 4)), act=Instant(4)))
    assert list(named.modules()) == ["inp", "act"] and named["act"].name == "act"
    with pytest.raises(IndexError):
        net[7]
    with pytest.raises(KeyError, match="no submodule"):
        net["nope"]


def test_output_matches_manual_composition_and_record():
    net = _net()
    x = np.random.default_rng(0).normal(size=(25, 2))
    out, state, rec = net(x, record=True)
    h = np.tanh(x @ np.asarray(net[0].weight))
    r_out, _, _ = net[2](h)
    np.testing.assert_allclose(out[0], np.asarray(r_out[0]) @ np.asarray(net[3].weight), rtol=1e-12)
    assert set(state) == {"2_Rate"}
    assert "2_Rate_output" in rec and set(rec["2_Rate"]) == {"rec_input", "x"}
    # previous (out, state, rec) tuples are accepted as input
    out2, _, _ = Sequential(Linear((3, 2), rng_key=2))((out, state, rec))
    assert out2.shape == (1, 25, 2)


def test_shape_mismatch_and_bad_elements():
    with pytest.raises(ValueError, match="shape mismatch"):
        Sequential(Linear((2, 5)), Instant(4))
    with pytest.raises(TypeError, match="not a dendrax.nn Module"):
        Sequential(Linear((2, 5)), jnp.tanh)
    with pytest.raises(ValueError, match="at least one"):
        Sequential()
    net = _net()
    with pytest.raises(ValueError, match="input channels"):
        net(np.zeros((10, 4)))
    with pytest.raises(ValueError, match="shape mismatch"):
        net.append(Instant(4))
    longer = net.append(Instant(3, jnp.tanh))
    assert list(longer.modules())[-1] == "4_Instant" and len(net) == 4


def test_jit_and_grad_through_sequential():
    net = _net()
    x = np.random.default_rng(1).normal(size=(30, 2))
    y = np.random.default_rng(2).normal(size=(30, 3))

    def loss(params):
        out, _, _ = net.set_attributes(params)(x)
        return jnp.mean((out[0] - y) ** 2)

    params = net.parameters()
    val, grads = jax.jit(jax.value_and_grad(loss))(params)
    assert jax.tree_util.tree_structure(grads) == jax.tree_util.tree_structure(params)
    # compare one gradient entry with a central finite difference
    eps = 1e-6
    w = np.asarray(params["0_Linear"]["weight"])
    dw = np.zeros_like(w)
    dw[1, 2] = eps
    plus = jax.tree_util.tree_map(lambda a: a, params)
    minus = jax.tree_util.tree_map(lambda a: a, params)
    plus["0_Linear"]["weight"] = w + dw
    minus["0_Linear"]["weight"] = w - dw
    fd = (loss(plus) - loss(minus)) / (2 * eps)
    assert float(grads["0_Linear"]["weight"][1, 2]) == pytest.approx(float(fd), rel=1e-6)
    # whole modules are pytrees too
    out_jit = jax.jit(lambda n, x: n(x)[0])(net, x)
    np.testing.assert_allclose(out_jit, net(x)[0], rtol=1e-12)


def test_set_attributes_round_trip_is_functional():
    net = _net()
    params = net.parameters()
    new = jax.tree_util.tree_map(lambda p: p + 1.0, params)
    net2 = net.set_attributes(new)
    for a, b in zip(
        jax.tree_util.tree_leaves(net2.parameters()), jax.tree_util.tree_leaves(new), strict=True
    ):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(net[0].weight, params["0_Linear"]["weight"])  # unchanged
    assert net.parameters(family="taus") == {"2_Rate": {"tau": net[2].tau}}
    assert set(net.simulation_parameters()["2_Rate"]) == {"dt", "noise_std"}
    leaves, treedef = jax.tree_util.tree_flatten(net)
    rebuilt = jax.tree_util.tree_unflatten(treedef, leaves)
    assert repr(rebuilt) == repr(net)
    with pytest.raises(ValueError, match="no attribute or submodule"):
        net.set_attributes({"0_Linear": {"wieght": 1.0}})
    with pytest.raises(ValueError, match="cannot set"):
        net.set_attributes({"0_Linear": {"weight": np.ones((3, 3))}})
    with pytest.raises(TypeError, match="expects a dict"):
        net.set_attributes([1, 2])
    with pytest.raises(AttributeError, match="immutable"):
        net[0].weight = 3.0


def test_state_update_and_reset():
    net = Sequential(Linear((1, 2), weight=np.ones((1, 2))), LIF(2, tau_syn=5e-3))
    x = np.full((20, 1), 0.3)
    out, state, _ = net(x)
    net2 = net.set_attributes(state)
    assert np.any(np.asarray(net2[1].vmem) != 0)
    reset = net2.reset_state()
    np.testing.assert_array_equal(reset[1].vmem, np.zeros(2))
    np.testing.assert_array_equal(reset[1].rng_key, net[1].rng_key)
