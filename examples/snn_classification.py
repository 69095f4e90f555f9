"""Train a small spiking network (leaky integrate-and-fire) to classify Poisson inputs.

The network of Jaxley's SNN tutorial: 100 input, 4 hidden and 2 output single-compartment
neurons; inputs and hidden neurons are `Leak` + `Fire` (surrogate-gradient spikes), outputs
are leaky integrators. `SpikeSynapse`s connect input -> hidden -> output (all to all). Each
sample drives the input neurons with Poisson spike trains whose rates depend on the class
(class 0: the first half of the inputs fires fast; class 1: the second half). The loss is
the cross-entropy of the maximum output voltages (logits); all synaptic weights are
trained with optax Adam.

Run: `python examples/snn_classification.py --epochs 15`.
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import numpy as np
import optax
from tqdm import tqdm

import dendrax as jx
from dendrax.channels import Fire, Leak
from dendrax.synapses import SpikeSynapse

jax.config.update("jax_enable_x64", True)

N_IN, N_HIDDEN, N_OUT = 100, 4, 2
DT = 0.1  # ms
T_MAX = 20.0  # ms
N_STEPS = int(T_MAX // DT) + 1
PULSE = 0.2  # nA, one step: enough to make an input neuron spike
RATES = (100.0, 20.0)  # Hz, (fast, slow) half of the inputs


def build_network(seed: int):
    """The 100-4-2 network with random initial weights (SpikeSynapse_gS, negative excites)."""
    rng = np.random.default_rng(seed)
    cell = jx.Cell(jx.Branch(jx.Compartment(), ncomp=1), parents=[-1])
    net = jx.Network([cell] * (N_IN + N_HIDDEN + N_OUT))
    net.insert(Leak())
    net.cell(range(N_IN + N_HIDDEN)).insert(Fire())
    inputs = net.cell(range(N_IN))
    hidden = net.cell(range(N_IN, N_IN + N_HIDDEN))
    outputs = net.cell(range(N_IN + N_HIDDEN, N_IN + N_HIDDEN + N_OUT))
    jx.fully_connect(inputs, hidden, SpikeSynapse())
    jx.fully_connect(hidden, outputs, SpikeSynapse())
    net.set("SpikeSynapse_s_decay", 2.0)  # 1/ms: events decay over ~0.5 ms
    n_in_edges = N_IN * N_HIDDEN
    weights = np.concatenate(
        [
            rng.normal(-0.002, 0.003, n_in_edges),
            rng.normal(-0.0005, 0.0002, N_HIDDEN * N_OUT),
        ]
    )
    net.set("SpikeSynapse_gS", weights)
    net.select(edges="all").make_trainable("SpikeSynapse_gS", verbose=False)
    outputs.record(verbose=False)
    return net


def make_dataset(n_samples: int, seed: int):
    """Poisson input currents (n, N_IN, N_STEPS) in nA and labels (n,)."""
    rng = np.random.default_rng(seed + 1)
    labels = rng.integers(0, 2, n_samples)
    fast = np.arange(N_IN) < N_IN // 2
    rates = np.where(fast[None, :] == (labels[:, None] == 0), RATES[0], RATES[1])
    p_spike = rates * DT * 1e-3
    spikes = rng.random((n_samples, N_IN, N_STEPS)) < p_spike[:, :, None]
    return jnp.asarray(spikes * PULSE), jnp.asarray(labels)


def make_functions(net):
    input_view = net.cell(range(N_IN))

    def logits(params, currents):
        stimuli = input_view.data_stimulate(currents)
        traces = jx.integrate(net, params=params, data_stimuli=stimuli, delta_t=DT)
        return jnp.max(traces, axis=1)  # (N_OUT,) max voltage in mV

    batched_logits = jax.vmap(logits, in_axes=(None, 0))

    def loss_fn(params, currents, labels):
        out = batched_logits(params, currents)
        loss = optax.softmax_cross_entropy_with_integer_labels(out, labels).mean()
        return loss, jnp.mean(jnp.argmax(out, axis=1) == labels)

    return jax.jit(batched_logits), jax.jit(jax.value_and_grad(loss_fn, has_aux=True))


def train(
    epochs: int = 15,
    seed: int = 0,
    n_samples: int = 64,
    batch_size: int = 16,
    learning_rate: float = 3e-4,
    verbose: bool = True,
):
    """Train and return (params, training accuracy after the last epoch)."""
    net = build_network(seed)
    currents, labels = make_dataset(n_samples, seed)
    batched_logits, value_and_grad = make_functions(net)
    params = net.get_parameters()
    optimizer = optax.adam(learning_rate)
    opt_state = optimizer.init(params)
    n_batches = n_samples // batch_size
    bar = tqdm(range(epochs), disable=not verbose)
    for _ in bar:
        losses, accs = [], []
        for b in range(n_batches):
            sl = slice(b * batch_size, (b + 1) * batch_size)
            (loss, acc), grads = value_and_grad(params, currents[sl], labels[sl])
            updates, opt_state = optimizer.update(grads, opt_state)
            params = optax.apply_updates(params, updates)
            losses.append(float(loss))
            accs.append(float(acc))
        bar.set_postfix(loss=f"{np.mean(losses):.3f}", accuracy=f"{np.mean(accs):.2f}")
    predictions = jnp.argmax(batched_logits(params, currents), axis=1)
    accuracy = float(jnp.mean(predictions == labels))
    return params, accuracy


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    _, accuracy = train(epochs=args.epochs, seed=args.seed)
    print(f"training accuracy: {accuracy:.3f}")


if __name__ == "__main__":
    main()
