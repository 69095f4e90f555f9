"""The training example (examples/train_network.py): its loss falls on a fixed seed."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

PATH = Path(__file__).resolve().parents[2] / "examples" / "train_network.py"

pytest.importorskip("optax")
pytest.importorskip("tqdm")


def _load():
    spec = importlib.util.spec_from_file_location("train_network_example", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_training_halves_the_loss_and_learns_the_task(tmp_path):
    example = _load()
    result = example.train(seed=0, progress=False)  # default: 10 epochs, 64 samples
    losses = result["losses"]
    assert losses.shape == (10,) and np.all(np.isfinite(losses))
    assert losses[-1] < 0.5 * losses[0], losses
    accuracy = np.mean((result["predictions_after"] > 0.5) == (result["labels"] > 0.5))
    assert accuracy >= 0.75  # chance is ~0.5; pairs with a tiny difference stay hard
    # the learned synapses have opposite signs: excite from input 0, inhibit from input 1
    g = np.asarray(result["params"][0]["TanhRateSynapse_gS"])
    assert g[0] > 0 > g[1]
    # the demo's voltage panel: the trained output cell spikes earlier for "input 0 larger"
    # than for "input 1 larger" (the learned excitation / inhibition), 0 mV crossing times
    after = result["traces_after"]
    assert after.shape == (2, 241) and np.all(np.isfinite(after))
    first_spike = [int(np.argmax(trace > 0.0)) for trace in after]
    assert 0 < first_spike[0] < first_spike[1]
    out = tmp_path / "train.png"
    example.plot(result, str(out))
    assert out.stat().st_size > 10_000
