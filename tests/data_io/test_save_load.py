"""Safe (non-pickle) save and load of modules and parameters.

Reference: the original module. A loaded module must simulate to the same trace (1e-12 in
float64) and have the same tables, trainables, recordings and stimuli; damaged or tampered
files must raise ModelFileError naming the fault.
"""

import json
import os
import pickle

import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

import dendrax as jx
from dendrax.channels import HH, Channel, Leak
from dendrax.io import ModelFileError, load_module, load_params, save_module, save_params
from dendrax.synapses import IonotropicSynapse, TanhRateSynapse
from tests.morphology.swc_factory import SWC_DIR, random_tree, write_swc

DT, T_MAX = 0.025, 8.0


def _swc_cell(path):
    cell = jx.read_swc(str(path), ncomp=2)
    cell.insert(HH())
    cell.soma.insert(Leak())
    cell.set("v", -65.0)
    cell.branch(1).set("HH_gNa", 0.2)
    cell.branch(2).set("radius", 0.7)  # replaces the traced geometry there (warns)
    cell.branch(1).add_to_group("hot")
    cell.hot.set("HH_gK", 0.05)
    cell.branch(1).make_trainable("HH_gK", verbose=False)
    cell.make_trainable("axial_resistivity", verbose=False)
    cell.select(nodes=[0, 3]).make_trainable("HH_gLeak", verbose=False)
    cell.branch(0).comp(0).record("v", verbose=False)
    cell.branch(2).comp(1).record("v", verbose=False)
    cell.branch(1).comp(0).record("HH_m", verbose=False)
    cell.branch(0).comp(0).stimulate(jx.step_current(1.0, 3.0, 0.4, DT, T_MAX), verbose=False)
    cell.branch(2).comp(0).stimulate(jx.step_current(2.0, 1.0, -0.1, DT, T_MAX), verbose=False)
    return cell


@pytest.fixture(params=["generated", "ca1"])
def swc_path(request, tmp_path):
    if request.param == "ca1":
        path = SWC_DIR / "morph_ca1_n120.swc"
        if not path.is_file():
            pytest.skip(f"shared SWC folder {SWC_DIR} is absent (set DENDRAX_SWC_DIR)")
        return path
    path = tmp_path / "random.swc"
    write_swc(path, random_tree(3, n_points=40))
    return path


def _assert_same_module(a, b):
    pd.testing.assert_frame_equal(a.nodes, b.nodes)
    pd.testing.assert_frame_equal(a.edges, b.edges)
    pd.testing.assert_frame_equal(a.recordings, b.recordings)
    assert [c.name for c in a.channels] == [c.name for c in b.channels]
    assert [type(c) for c in a.channels] == [type(c) for c in b.channels]
    assert [type(s) for s in a.synapses] == [type(s) for s in b.synapses]
    assert a.group_names == b.group_names
    for x, y in zip(a.get_parameters(), b.get_parameters(), strict=True):
        assert list(x) == list(y)
        for k in x:
            assert isinstance(y[k], type(x[k]))
            np.testing.assert_array_equal(x[k], y[k])
    for x, y in zip(a.indices_set_by_trainables, b.indices_set_by_trainables, strict=True):
        np.testing.assert_array_equal(x, y)
    for k in a.externals:
        np.testing.assert_array_equal(a.externals[k], b.externals[k])
        np.testing.assert_array_equal(a.external_inds[k], b.external_inds[k])
    for x, y in zip(a.xyzr, b.xyzr, strict=True):
        np.testing.assert_array_equal(x, y)


def _assert_same_traces(a, b):
    ref = np.asarray(jx.integrate(a, delta_t=DT, t_max=T_MAX))
    got = np.asarray(jx.integrate(b, delta_t=DT, t_max=T_MAX))
    assert ref.dtype == np.float64 and np.all(np.isfinite(ref))
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)
    # the trainables drive the loaded module as they drive the original
    params = [{k: v * 1.1 for k, v in p.items()} for p in a.get_parameters()]
    ref = np.asarray(jx.integrate(a, delta_t=DT, t_max=T_MAX, params=params))
    got = np.asarray(jx.integrate(b, delta_t=DT, t_max=T_MAX, params=params))
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)


@pytest.mark.filterwarnings("ignore:Setting 'radius'")
def test_cell_from_swc_round_trips(swc_path, tmp_path):
    cell = _swc_cell(swc_path)
    path = tmp_path / "cell.npz"
    save_module(cell, path)
    with np.load(path, allow_pickle=False) as z:  # a plain npz: JSON description + arrays
        doc = json.loads(str(z["__dendrax__"]))
    assert doc["format"] == "dendrax-module" and doc["class"] == "Cell"
    loaded = load_module(path)
    assert type(loaded) is jx.Cell and loaded.base is loaded
    _assert_same_module(cell, loaded)
    _assert_same_traces(cell, loaded)
    # the loaded module is an ordinary module: editing it leaves the original alone
    loaded.branch(0).set("HH_gNa", 0.5)
    assert float(cell.branch(0).nodes["HH_gNa"].iloc[0]) == 0.12


def _network():
    cells = [jx.Cell(jx.Branch(jx.Compartment(), 2), parents=[-1, 0, 0]) for _ in range(3)]
    net = jx.Network(cells)
    net.insert(HH())
    jx.fully_connect(net.cell([0]), net.cell([1, 2]), IonotropicSynapse())
    jx.connect(net.cell(1).branch(1).loc(1.0), net.cell(2).branch(0).loc(0.0), TanhRateSynapse())
    net.IonotropicSynapse.edge(1).set("IonotropicSynapse_gS", 0.3)
    net.IonotropicSynapse.edge(0).make_trainable("IonotropicSynapse_gS", verbose=False)
    net.cell(1).make_trainable("HH_gNa", verbose=False)
    net.cell(0).branch(0).comp(0).stimulate(jx.step_current(0.5, 3.0, 0.5, DT, T_MAX), False)
    net.cell(2).branch(2).comp(1).clamp("v", np.full(400, -60.0), verbose=False)
    for i in range(3):
        net.cell(i).branch(0).comp(0).record("v", verbose=False)
    net.IonotropicSynapse.edge(0).record("IonotropicSynapse_s", verbose=False)
    return net


def test_network_with_synapses_round_trips(tmp_path):
    net = _network()
    save_module(net, tmp_path / "net.npz")
    loaded = load_module(tmp_path / "net.npz")
    assert type(loaded) is jx.Network and len(loaded.edges) == 3
    _assert_same_module(net, loaded)
    _assert_same_traces(net, loaded)


class MyLeak(Channel):
    """A user channel: a leak with its own parameter names."""

    def __init__(self, name=None):
        super().__init__(name)
        self.channel_params = {f"{self.name}_g": 2e-4, f"{self.name}_e": -60.0}
        self.channel_states = {}
        self.current_name = f"i_{self.name}"

    def update_states(self, states, dt, v, params):
        return {}

    def compute_current(self, states, v, params):
        return params[f"{self.name}_g"] * (v - params[f"{self.name}_e"])


class HHLookalike(MyLeak):
    pass


HHLookalike.__name__ = "HH"  # a user class that shares a name with dendrax's HH


def test_user_mechanisms_are_rebuilt_only_from_a_mapping(tmp_path):
    comp = jx.Compartment()
    comp.insert(MyLeak())
    comp.record(verbose=False)
    comp.stimulate(jx.step_current(1.0, 2.0, 0.01, DT, T_MAX), verbose=False)
    save_module(comp, tmp_path / "c.npz")
    with pytest.raises(
        ModelFileError,
        match=r"cannot rebuild class 'MyLeak': it was defined in 'test_save_load'|"
        r"cannot rebuild class 'MyLeak': it was defined in '.*test_save_load', outside "
        r"dendrax\. If you trust the file, pass classes=\{'MyLeak': <the class>\}",
    ):
        load_module(tmp_path / "c.npz")
    loaded = load_module(tmp_path / "c.npz", classes={"MyLeak": MyLeak})
    _assert_same_traces(comp, loaded)
    # a namesake of a dendrax class is not silently replaced by dendrax's class
    other = jx.Compartment()
    other.insert(HHLookalike())
    save_module(other, tmp_path / "o.npz")
    with pytest.raises(ModelFileError, match=r"cannot rebuild class 'HH': it was defined in"):
        load_module(tmp_path / "o.npz")
    with pytest.raises(TypeError, match=r"classes must map class names \(str\) to classes"):
        load_module(tmp_path / "o.npz", classes={"HH": HHLookalike()})


def test_save_refuses_views_and_unsafe_values(tmp_path):
    cell = jx.Cell(jx.Branch(jx.Compartment(), 2), parents=[-1, 0])
    with pytest.raises(TypeError, match=r"not views: pass `view\.base`"):
        save_module(cell.branch(0), tmp_path / "v.npz")
    with pytest.raises(TypeError, match=r"takes a dendrax module, got dict"):
        save_module({}, tmp_path / "v.npz")
    cell._note = object()
    with pytest.raises(TypeError, match=r"cannot save module\._note: values of type builtins"):
        save_module(cell, tmp_path / "v.npz")
    cell._note = np.array([1, "a"], dtype=object)
    with pytest.raises(TypeError, match=r"module\._note: an object array that does not hold"):
        save_module(cell, tmp_path / "v.npz")
    assert not os.listdir(tmp_path)  # nothing half-written


def test_params_round_trip(tmp_path):
    net = _network()
    params = net.get_parameters()
    save_params(params, tmp_path / "p.npz")
    loaded = load_params(tmp_path / "p.npz")
    assert isinstance(loaded, list) and [list(p) for p in loaded] == [list(p) for p in params]
    for a, b in zip(params, loaded, strict=True):
        for k in a:
            assert isinstance(b[k], type(a[k])) and b[k].dtype == a[k].dtype
            np.testing.assert_array_equal(a[k], b[k])
    nested = {"w": np.arange(3.0), "layers": ({"b": np.float32(0.5)}, [1, 2.5])}
    save_params(nested, tmp_path / "n.npz")
    back = load_params(tmp_path / "n.npz")
    np.testing.assert_array_equal(back["w"], nested["w"])
    assert back["layers"][0]["b"] == np.float32(0.5) and back["layers"][1] == [1, 2.5]
    assert isinstance(back["layers"], tuple)
    with pytest.raises(TypeError, match=r"params\[0\]\['x'\]: expected arrays in lists/dicts"):
        save_params([{"x": "text"}], tmp_path / "bad.npz")
    save_module(net, tmp_path / "m.npz")
    with pytest.raises(ModelFileError, match=r"is not a dendrax parameter file"):
        load_params(tmp_path / "m.npz")
    with pytest.raises(ModelFileError, match=r"not a dendrax module file \(format 'dendrax-par"):
        load_module(tmp_path / "p.npz")


# ----------------------------------------------------------------- damaged and tampered files
def _members(path):
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    return json.loads(str(arrays.pop("__dendrax__"))), arrays


def _write(path, doc, arrays, raw_json=None):
    text = raw_json if raw_json is not None else json.dumps(doc)
    with open(path, "wb") as f:
        np.savez(f, __dendrax__=np.array(text), **arrays)


def _attr(doc, name):
    return doc["attributes"][name]


def _dict_entry(node, key):
    """The value node of `key` in an encoded dict."""
    return next(v for k, v in node["items"] if k == key)


@pytest.fixture
def saved(tmp_path):
    net = _network()
    path = tmp_path / "net.npz"
    save_module(net, path)
    return path


def test_not_a_module_file(tmp_path, saved):
    with pytest.raises(FileNotFoundError, match="no saved file at"):
        load_module(tmp_path / "missing.npz")
    pickled = tmp_path / "net.pkl"
    pickled.write_bytes(pickle.dumps(_network()))
    with pytest.raises(ModelFileError, match=r"not a dendrax module file.*loading a pickle runs"):
        load_module(pickled)
    text = tmp_path / "t.npz"
    text.write_text("hello")
    with pytest.raises(ModelFileError, match="not a dendrax module file|unreadable"):
        load_module(text)
    np.save(tmp_path / "a.npy", np.zeros(3))
    with pytest.raises(ModelFileError, match="a single numpy array, not a dendrax module file"):
        load_module(tmp_path / "a.npy")
    np.savez(tmp_path / "plain.npz", x=np.zeros(2))
    with pytest.raises(ModelFileError, match=r"an \.npz archive but not a dendrax module file"):
        load_module(tmp_path / "plain.npz")
    data = saved.read_bytes()
    saved.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match=r"unreadable|damaged"):
        load_module(saved)


def test_tampered_classes_are_refused_without_importing(saved, monkeypatch):
    doc, arrays = _members(saved)
    doc["class"], doc["builtin"], doc["module"] = "system", False, "os"
    _write(saved, doc, arrays)
    imported = []
    monkeypatch.setattr("builtins.__import__", _spy_import(imported))
    with pytest.raises(ModelFileError, match=r"cannot rebuild class 'system': it was defined"):
        load_module(saved)
    monkeypatch.undo()
    assert "os" not in imported
    doc["class"], doc["builtin"] = "Popen", True
    _write(saved, doc, arrays)
    with pytest.raises(ModelFileError, match=r"'Popen': it is not one of dendrax's own classes"):
        load_module(saved)
    doc["class"] = "HH"  # a registered class, but not a module class
    _write(saved, doc, arrays)
    with pytest.raises(ModelFileError, match=r"module class: class 'HH' is not a Module class"):
        load_module(saved)
    doc["class"] = "Network"
    _attr(doc, "_channels")[0]["class"] = "Network"
    _write(saved, doc, arrays)
    with pytest.raises(ModelFileError, match=r"class 'Network' is not a Channel or Synapse class"):
        load_module(saved)


def _spy_import(log):
    real = __import__

    def spy(name, *args, **kwargs):
        log.append(name)
        return real(name, *args, **kwargs)

    return spy


def _tamper(saved, edit):
    doc, arrays = _members(saved)
    edit(doc, arrays)
    _write(saved, doc, arrays)


def _ref(node):
    return node["ref"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d, a: a.update({_ref(_dict_entry(_attr(d, "_nodes"), "radius")): np.ones(3)}),
            r"module\._nodes: columns have different lengths",
        ),
        (
            lambda d, a: _attr(d, "_recordings")[0]["items"].__setitem__(2, 999),
            r"module\._recordings\[0\]: row 999 is out of range",
        ),
        (
            lambda d, a: a.update({_ref(_attr(d, "_stimuli")[0]["items"][0]): np.array([10**4])}),
            r"module\._stimuli\[0\] rows: holds 10000, out of range",
        ),
        (
            lambda d, a: a.update(
                {_ref(_dict_entry(_attr(d, "_edges"), "post_index")): np.array([0, 1, 99])}
            ),
            r"module\._edges\['post_index'\]: holds 99, out of range",
        ),
        (
            lambda d, a: a.update(
                {_ref(_dict_entry(_attr(d, "_trainables")[1], "param_of_row")): np.full(6, 7)}
            ),
            r"module\._trainables\[1\] param_of_row: holds 7, out of range",
        ),
        (
            lambda d, a: a.update({_ref(_attr(d, "_branch_parents")): np.array([-1, 5, 0] * 3)}),
            r"module\._branch_parents: holds 5|branch 1 has parent 5",
        ),
        (
            lambda d, a: _attr(d, "_xyzr").__setitem__(0, {"$": "pickle", "data": "..."}),
            r"module\._xyzr\[0\]: unknown tag 'pickle'",
        ),
        (
            lambda d, a: a.pop(_ref(_attr(d, "_frustum"))),
            r"module\._frustum: refers to an array 'a\d+' that the file does not contain",
        ),
        (
            lambda d, a: a.update({_ref(_attr(d, "_frustum")): np.array([1, "x"], dtype=object)}),
            r"malformed \(Object arrays cannot be loaded when allow_pickle=False\)",
        ),
        (lambda d, a: d.update(version=2), r"format version 2; this dendrax reads version 1"),
        (lambda d, a: d["attributes"].update({"__class__": None}), r"invalid attribute names"),
        (lambda d, a: d["attributes"].pop("_nodes"), r"module\._nodes: must be a dict"),
    ],
)
def test_tampered_contents_give_clear_errors(saved, edit, message):
    _tamper(saved, edit)
    with pytest.raises(ModelFileError, match=message):
        load_module(saved)


def test_malformed_json(saved):
    doc, arrays = _members(saved)
    _write(saved, None, arrays, raw_json='{"format": "dendrax-module", "version": NaN}')
    with pytest.raises(ModelFileError, match=r"malformed \(the JSON holds the non-standard"):
        load_module(saved)
    _write(saved, None, arrays, raw_json="[" * 100000 + "]" * 100000)
    with pytest.raises(ModelFileError, match=r"nested too deeply|not a dendrax module file"):
        load_module(saved)
    deep = {"$": "tuple", "items": []}
    for _ in range(100):
        deep = {"$": "tuple", "items": [deep]}
    doc["attributes"]["_extra"] = deep
    _write(saved, doc, arrays)
    with pytest.raises(ModelFileError, match=r"nested deeper than 64 levels"):
        load_module(saved)


def test_save_is_atomic_and_does_not_follow_symlinks(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("keep")
    target = tmp_path / "m.npz"
    os.symlink(victim, target)
    save_module(jx.Compartment(), target)
    assert victim.read_text() == "keep" and not target.is_symlink()
    assert isinstance(load_module(target), jx.Compartment)


def test_pickle_path_warns_in_its_docstring():
    doc = jx.Module.__getstate__.__doc__
    assert "runs" in doc and "code" in doc and "save_module" in doc
    assert jnp.asarray(0.0).dtype == jnp.float64  # tests run in float64 (tests/conftest.py)


def _mechanisms():
    from dendrax.io.registry import registered_classes

    return [c for c in registered_classes().values() if not issubclass(c, jx.Module)]


@pytest.mark.parametrize("cls", _mechanisms(), ids=lambda c: c.__name__)
def test_every_registered_mechanism_round_trips(cls, tmp_path):
    """Contract test over the registry: type and attributes survive (traces: tests above)."""
    from dendrax.synapses.synapse import Synapse

    if issubclass(cls, Synapse):
        module = jx.Network([jx.Compartment(), jx.Compartment()])
        jx.connect(module.cell(0).branch(0).comp(0), module.cell(1).branch(0).comp(0), cls())
        before = module.synapses
    else:
        module = jx.Compartment()
        module.insert(cls())
        before = module.channels
    save_module(module, tmp_path / "m.npz")
    loaded = load_module(tmp_path / "m.npz")
    after = loaded.synapses if issubclass(cls, Synapse) else loaded.channels
    assert [type(m) for m in after] == [cls]
    assert vars(after[0]) == vars(before[0])
    pd.testing.assert_frame_equal(loaded.nodes, module.nodes)
    pd.testing.assert_frame_equal(loaded.edges, module.edges)


def my_nonlinearity(x):
    return jnp.tanh(2.0 * x)


def test_functions_held_by_mechanisms(tmp_path):
    from dendrax.synapses import DynamicSynapse

    def net_with(fn):
        net = jx.Network([jx.Compartment(), jx.Compartment()])
        net.insert(HH())
        jx.connect(net.cell(0).branch(0).comp(0), net.cell(1).branch(0).comp(0),
                   DynamicSynapse(nonlinearity=fn))  # fmt: skip
        net.cell(1).record(verbose=False)
        net.cell(0).stimulate(jx.step_current(1.0, 2.0, 0.3, DT, T_MAX), verbose=False)
        return net

    net = net_with(jax_relu := __import__("jax").nn.relu)
    save_module(net, tmp_path / "relu.npz")
    loaded = load_module(tmp_path / "relu.npz")
    assert loaded.synapses[0].nonlinearity is jax_relu
    _assert_same_traces(net, loaded)
    net = net_with(my_nonlinearity)
    save_module(net, tmp_path / "own.npz")
    with pytest.raises(
        ModelFileError,
        match=r"cannot rebuild function '.*test_save_load\.my_nonlinearity': it is not one of"
        r" the registered.*pass functions=\{'my_nonlinearity': <the function>\}",
    ):
        load_module(tmp_path / "own.npz")
    loaded = load_module(tmp_path / "own.npz", functions={"my_nonlinearity": my_nonlinearity})
    _assert_same_traces(net, loaded)
    with pytest.raises(
        TypeError, match=r"_synapses\[0\]\(DynamicSynapse\)\.nonlinearity: .* is a lambda"
    ):
        save_module(net_with(lambda x: x), tmp_path / "lambda.npz")
