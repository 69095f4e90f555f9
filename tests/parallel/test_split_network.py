"""`split_network` on 2, 4 and 8 forced CPU devices (one subprocess) against the unsplit
single-device `dendrax.integrate` of the same network (run in this process).

Network (`_networks.py`): 12 cells of 1, 2 and 6 compartments, random connections, 20 ms;
HH cells with `IonotropicSynapse`s and Leak + Fire cells with `SpikeSynapse`s onto any cell,
without and with synaptic delays (exchange every step, and every min-delay window). Both
synapse types are in one network, so each device count compiles once per delay setting.

The split run differs from the unsplit one by rounding only (a device sums the synaptic
currents of its compartments in its own order); the tolerance is 1e-10 mV.
"""

import numpy as np
import pytest

import dendrax as dx

from . import _networks as nw
from .multiprocess_harness import load, run_script

N_CELLS = 12
N_RECORDINGS = N_CELLS + 4  # v of every cell; a synapse state and current, i_HH, Fire_spikes
CASES = [("mixed", False), ("mixed", True)]
DEVICES = (2, 4, 8)

SCRIPT = """
import _networks as nw
import dendrax as dx
from dendrax import parallel
from dendrax.parallel import MeshError, PartitionError

assert jax.device_count() == 8
res = {}
for kind in ("mixed",):
    for delays in (False, True):
        net = nw.network(12, kind, delays)
        for n in (2, 4, 8):
            split = parallel.split_network(net, parallel.make_mesh(n), delta_t=nw.DT)
            key = f"{kind}_{delays}_{n}"
            res[key] = np.asarray(split.run(t_max=nw.T_MAX))
            res[key + "_mode"] = split.plan.mode
            res[key + "_window"] = split.plan.window
            res[key + "_device_of_cell"] = split.partition.device_of_cell
            res[key + "_bytes"] = split.exchanged_bytes()["received_per_exchange"]
            res[key + "_names"] = np.array(split.plan.names)
            if delays and n == 8:
                # a stimulus given to run(inputs=) instead of the compiled one (same program)
                doubled = {"i": 2.0 * np.asarray(split.sim.inputs["i"])}
                res["inputs"] = np.asarray(split.run(t_max=nw.T_MAX, inputs=doubled))
        if delays:
            res["describe"] = split.describe()
            table = [line.split() for line in res["describe"].splitlines()[1:9]]
            res["table"] = np.array(table, dtype=np.int64)

# uneven partitions: explicit (9 cells on device 0), contiguous blocks, smaller window;
# with a voltage clamp (an input of another kind than a stimulus)
net = nw.network(12, "mixed", True, clamp=True)
three = parallel.make_mesh(3)
explicit = [0] * 9 + [1, 2, 2]
split = parallel.split_network(net, three, partition=explicit, delta_t=nw.DT)
res["explicit"] = np.asarray(split.run(t_max=nw.T_MAX))
res["explicit_device_of_cell"] = split.partition.device_of_cell
two = parallel.make_mesh(2)
res["blocks"] = np.asarray(
    parallel.split_network(net, two, partition="blocks", delta_t=nw.DT).run(t_max=nw.T_MAX)
)
small = parallel.split_network(net, two, window=7, delta_t=nw.DT)
res["window7"] = np.asarray(small.run(t_max=nw.T_MAX))
res["window7_window"] = small.plan.window

def message(fn):
    try:
        fn()
    except (MeshError, PartitionError) as err:
        return type(err).__name__ + ": " + str(err)
    return "no error"

eight = parallel.make_mesh(8)
tiny = nw.network(3, "mixed", False)
res["err_axis"] = message(lambda: parallel.split_network(net, eight, axis="cells", delta_t=nw.DT))
res["err_empty"] = message(lambda: parallel.split_network(tiny, eight, delta_t=nw.DT))
res["err_missing"] = message(
    lambda: parallel.split_network(net, three, partition=[0] * 6 + [2] * 6, delta_t=nw.DT)
)
res["err_length"] = message(
    lambda: parallel.split_network(net, two, partition=[0, 1], delta_t=nw.DT)
)
res["err_range"] = message(
    lambda: parallel.split_network(net, two, partition=[0, 1] * 5 + [1, 2], delta_t=nw.DT)
)
res["err_window"] = message(lambda: parallel.split_network(net, two, window=1000, delta_t=nw.DT))
no_delay = nw.network(12, "mixed", False)
res["err_window_step"] = message(
    lambda: parallel.split_network(no_delay, two, window=2, delta_t=nw.DT)
)
save("split", **{k: np.asarray(v) for k, v in res.items()})
"""

FLOAT32 = """
jax.config.update("jax_enable_x64", False)
import _networks as nw
import dendrax as dx
from dendrax import parallel

net = nw.network(12, "mixed", False)
split = parallel.split_network(net, parallel.make_mesh(4), delta_t=nw.DT)
res = {"split": np.asarray(split.run(t_max=nw.T_MAX))}
res["unsplit"] = np.asarray(dx.integrate(net, delta_t=nw.DT, t_max=nw.T_MAX))
save("float32", **res)
"""


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("split8")
    run_script(SCRIPT, out, n_devices=8, timeout=240)
    return load(out, "split")


@pytest.fixture(scope="module")
def references():
    refs = {}
    for kind, delays in CASES:
        net = nw.network(N_CELLS, kind, delays)
        refs[kind, delays] = (np.asarray(dx.integrate(net, delta_t=nw.DT, t_max=nw.T_MAX)), net)
    return refs


@pytest.mark.parametrize(("kind", "delays"), CASES)
def test_split_matches_unsplit_integrate(results, references, kind, delays):
    reference, _ = references[kind, delays]
    assert reference.shape == (N_RECORDINGS, int(nw.T_MAX / nw.DT) + 1)
    assert np.ptp(reference) > 10.0  # cells spike: a wrong exchange shows
    for n in DEVICES:
        split = results[f"{kind}_{delays}_{n}"]
        assert split.shape == reference.shape
        np.testing.assert_allclose(split, reference, rtol=0, atol=1e-10, err_msg=f"{n} devices")


@pytest.mark.parametrize(("kind", "delays"), CASES)
def test_exchange_mode_and_volume(results, references, kind, delays):
    """Mode from the delays of the cut synapses, and the all_gather size from the edges."""
    _, net = references[kind, delays]
    edges = net.edges
    cell = np.asarray(net.nodes["global_cell_index"])
    pre, post = edges["pre_index"].to_numpy(), edges["post_index"].to_numpy()
    lags = np.rint(edges["delay"].to_numpy() / nw.DT).astype(int)
    for n in DEVICES:
        key = f"{kind}_{delays}_{n}"
        device = results[key + "_device_of_cell"][cell]
        cut = device[pre] != device[post]
        assert cut.any()
        mode, window = str(results[key + "_mode"]), int(results[key + "_window"])
        if delays:
            assert mode == "window" and window == lags[cut].min() >= 20
        else:
            assert mode == "step" and window == 1
        assert list(results[key + "_names"]) == ["v", "Fire_spikes"]
        # each device sends each presynaptic compartment of its cut synapses once
        sends = [np.unique(pre[cut & (device[pre] == d)]).size for d in range(n)]
        expected = n * window * 2 * max(sends) * 8  # 2 names, float64
        assert int(results[key + "_bytes"]) == expected


def test_describe_table_counts(results, references):
    _, net = references["mixed", True]
    table = results["table"]  # device, cells, comps, ghosts, synapses, cut, sends, state
    cell = np.asarray(net.nodes["global_cell_index"])
    device = results["mixed_True_8_device_of_cell"]
    pre = net.edges["pre_index"].to_numpy()
    post = net.edges["post_index"].to_numpy()
    np.testing.assert_array_equal(table[:, 0], np.arange(8))
    np.testing.assert_array_equal(table[:, 1], np.bincount(device, minlength=8))
    np.testing.assert_array_equal(table[:, 2], np.bincount(device[cell], minlength=8))
    np.testing.assert_array_equal(table[:, 4], np.bincount(device[cell[post]], minlength=8))
    cut = device[cell[pre]] != device[cell[post]]
    np.testing.assert_array_equal(table[:, 5], np.bincount(device[cell[post]][cut], minlength=8))
    # greedy balance: no device exceeds the mean by more than the largest cell
    sizes = np.bincount(cell)
    assert table[:, 2].max() - sizes.sum() / 8 <= sizes.max()
    text = str(results["describe"])
    assert "exchange: window" in text and "Fire_spikes" in text


def test_uneven_partitions_and_window(results, references):
    net = nw.network(N_CELLS, "mixed", True, clamp=True)
    reference = np.asarray(dx.integrate(net, delta_t=nw.DT, t_max=nw.T_MAX))
    assert np.abs(reference - references["mixed", True][0]).max() > 1.0  # the clamp acts
    np.testing.assert_array_equal(results["explicit_device_of_cell"], [0] * 9 + [1, 2, 2])
    for key in ("explicit", "blocks", "window7"):
        np.testing.assert_allclose(results[key], reference, rtol=0, atol=1e-10, err_msg=key)
    assert int(results["window7_window"]) == 7


def test_run_inputs_replace_the_stimulus(results, references):
    undoubled, net = references["mixed", True]
    sim = dx.compile(net, delta_t=nw.DT)
    doubled = {"i": 2.0 * np.asarray(sim.inputs["i"])}
    reference = np.asarray(sim.run(t_max=nw.T_MAX, inputs=doubled))
    assert np.abs(reference - undoubled).max() > 1.0
    np.testing.assert_allclose(results["inputs"], reference, rtol=0, atol=1e-10)


@pytest.mark.parametrize(
    ("key", "kind", "words"),
    [
        ("err_axis", "MeshError", ["no axis 'cells'", "('batch',)"]),
        ("err_empty", "PartitionError", ["3 cell(s)", "8 devices", "without cells"]),
        ("err_missing", "PartitionError", ["device(s) [1] without cells"]),
        ("err_length", "PartitionError", ["12 cells", "shape (2,)"]),
        ("err_range", "PartitionError", ["partition[11] = 2", "2 devices"]),
        ("err_window", "PartitionError", ["window=1000", "minimum delay", "window <="]),
        ("err_window_step", "PartitionError", ["window=2", "0 step(s)"]),
    ],
)
def test_clear_errors(results, key, kind, words):
    text = str(results[key])
    assert text.startswith(kind + ": "), text
    for word in words:
        assert word in text, text


def test_float32_does_not_nan(tmp_path):
    run_script(FLOAT32, tmp_path, n_devices=4, timeout=120)
    res = load(tmp_path, "float32")
    split, unsplit = res["split"], res["unsplit"]
    assert split.dtype == np.float32 and np.all(np.isfinite(split))
    assert np.ptp(split) > 10.0
    # float32 rounding, not a wrong exchange (which differs by tens of mV)
    assert np.median(np.abs(split - unsplit)) < 0.1
