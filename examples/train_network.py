"""Train a three-cell network of branched HH neurons to classify pairs of input currents.

The network of Jaxley's training tutorial, written with `dendrax`: two input cells, each
driven by a step current whose amplitude is one feature of a data point, connect through
graded `TanhRateSynapse`s to an output cell. The task: say whether the first input is larger
than the second. The prediction is the output cell's mean depolarization (mV), squashed by
a sigmoid; the loss is the binary cross-entropy. Trained with optax Adam on the synaptic
strengths and per-branch radii, through `ParamTransform`s (bounded sigmoids), with 2-level
checkpointing of the time loop and a `vmap` over the mini-batch.

Run: `python examples/train_network.py --epochs 10 --out train_network.png` (prints the loss
per epoch; writes one PNG with the network drawn, the output cell's voltage before and
after training, the loss curve and the predictions).
"""

from __future__ import annotations

import argparse
import math
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

import dendrax as jx  # noqa: E402
from dendrax.channels import HH  # noqa: E402
from dendrax.connect import fully_connect  # noqa: E402
from dendrax.optimize import ParamTransform  # noqa: E402
from dendrax.optimize.transforms import SigmoidTransform  # noqa: E402
from dendrax.synapses import TanhRateSynapse  # noqa: E402
from dendrax.training import Dataset  # noqa: E402

T_MAX = 6.0  # ms
DELTA_T = 0.025  # ms
I_DELAY, I_DUR = 1.0, 4.0  # ms, the input pulse
I_SCALE = 0.02  # nA per unit of input feature
READOUT_FROM = 2.0  # ms: mean voltage of the output cell after this time
READOUT_SCALE = 1.0  # mV: depolarization that moves the sigmoid by one logit
G_MAX = 0.01  # nA: bound of |TanhRateSynapse_gS|


def build_network() -> jx.Network:
    """Three cells of 3 branches x 2 compartments with HH; cells 0, 1 -> cell 2."""
    comp = jx.Compartment()
    branch = jx.Branch(comp, ncomp=2)
    cell = jx.Cell([branch] * 3, parents=[-1, 0, 0])
    net = jx.Network([cell] * 3)
    net.insert(HH())
    fully_connect(net.cell([0, 1]), net.cell(2), TanhRateSynapse())
    # a graded transfer around rest (slope 0.1 /mV): tanh((v_pre + 65) / 10)
    net.set("TanhRateSynapse_x_offset", -65.0)
    net.set("TanhRateSynapse_slope", 0.1)
    net.set("TanhRateSynapse_gS", 1e-4)
    net.init_states()
    net.cell(2).branch(0).comp(0).record(verbose=False)
    net.select(edges=[0, 1]).make_trainable("TanhRateSynapse_gS", verbose=False)
    net.cell("all").branch("all").make_trainable("radius", verbose=False)
    return net


def make_data(n_samples: int, seed: int = 0):
    """Features (n, 2) uniform in [0, 1]; label 1.0 if feature 0 > feature 1, else 0.0."""
    rng = np.random.default_rng(seed)
    inputs = rng.uniform(0.0, 1.0, size=(n_samples, 2))
    return inputs, (inputs[:, 0] > inputs[:, 1]).astype(float)


def make_model(net: jx.Network):
    """The transform and the pure functions `predict(params, inputs)` and `loss(...)`."""
    n_steps = int(T_MAX // DELTA_T + 1)
    level = math.ceil(math.sqrt(n_steps))
    checkpoints = [level, level]  # 2-level checkpointing: memory ~ 2 sqrt(T) states
    transform = ParamTransform(
        [
            {"TanhRateSynapse_gS": SigmoidTransform(-G_MAX, G_MAX)},
            {"radius": SigmoidTransform(0.2, 3.0)},
        ]
    )
    first = int(READOUT_FROM / DELTA_T)

    def simulate(params, features):
        """Voltage (mV) of the output cell, (n_steps + 1,), for one pair of features."""
        currents = jx.datapoint_to_step_currents(I_DELAY, I_DUR, I_SCALE * features, DELTA_T, T_MAX)
        stimuli = net.cell(0).branch(0).comp(0).data_stimulate(currents[0])
        stimuli = net.cell(1).branch(0).comp(0).data_stimulate(currents[1], stimuli)
        return jx.integrate(
            net,
            params=params,
            data_stimuli=stimuli,
            t_max=T_MAX,
            delta_t=DELTA_T,
            checkpoint_lengths=checkpoints,
        )[0]

    v_rest = simulate(net.get_parameters(), jnp.zeros(2))[first:].mean()

    def logit(params, features):
        return (simulate(params, features)[first:].mean() - v_rest) / READOUT_SCALE

    def predict(params, inputs):
        """P(label = 1) for a batch of features (b, 2)."""
        return jax.nn.sigmoid(jax.vmap(logit, in_axes=(None, 0))(params, inputs))

    def loss(opt_params, inputs, labels):
        """Mean binary cross-entropy of a batch; `opt_params` are unconstrained."""
        logits = jax.vmap(logit, in_axes=(None, 0))(transform.forward(opt_params), inputs)
        return jnp.mean(optax.sigmoid_binary_cross_entropy(logits, labels))

    return transform, predict, loss, simulate


#: Two example inputs shown in the demo figure: input 0 larger, and input 1 larger.
EXAMPLE_INPUTS = np.array([[0.9, 0.2], [0.2, 0.9]])


def train(
    epochs: int = 10,
    n_samples: int = 64,
    batch_size: int = 8,
    learning_rate: float = 0.05,
    seed: int = 0,
    progress: bool = True,
) -> dict:
    """Train the network; returns losses per epoch (mean over batches) and predictions.

    Returns a dict with `losses` (epochs,), `params` (trained, constrained), `inputs`
    (n, 2), `labels` (n,), `predictions_before` and `predictions_after` (n,), the network
    `net`, and the output cell's voltage (mV) for `EXAMPLE_INPUTS`, `traces_before` and
    `traces_after` (2, n_steps + 1).
    """
    from tqdm import tqdm

    net = build_network()
    transform, predict, loss, simulate = make_model(net)
    traces = jax.jit(jax.vmap(simulate, in_axes=(None, 0)))
    inputs, labels = make_data(n_samples, seed)
    loader = Dataset(inputs, labels).batch(batch_size)
    opt_params = transform.inverse(net.get_parameters())
    optimizer = optax.adam(learning_rate)
    opt_state = optimizer.init(opt_params)
    value_and_grad = jax.jit(jax.value_and_grad(loss))
    batched_predict = jax.jit(predict)
    before = np.asarray(batched_predict(transform.forward(opt_params), jnp.asarray(inputs)))
    traces_before = np.asarray(traces(transform.forward(opt_params), jnp.asarray(EXAMPLE_INPUTS)))
    losses = []
    bar = tqdm(range(epochs), desc="training", disable=not progress)
    for epoch in bar:
        loader.shuffle(seed=seed + epoch)
        total = 0.0
        for x, y in loader:
            value, grads = value_and_grad(opt_params, jnp.asarray(x), jnp.asarray(y))
            updates, opt_state = optimizer.update(grads, opt_state)
            opt_params = optax.apply_updates(opt_params, updates)
            total += float(value)
        losses.append(total / len(loader))
        bar.set_postfix(loss=f"{losses[-1]:.4f}")
        if progress:
            tqdm.write(f"epoch {epoch}: loss {losses[-1]:.4f}")
    params = transform.forward(opt_params)
    after = np.asarray(batched_predict(params, jnp.asarray(inputs)))
    return {
        "net": net,
        "traces_before": traces_before,
        "traces_after": np.asarray(traces(params, jnp.asarray(EXAMPLE_INPUTS))),
        "losses": np.asarray(losses),
        "params": params,
        "inputs": inputs,
        "labels": labels,
        "predictions_before": before,
        "predictions_after": after,
    }


def plot(result: dict, out: str) -> None:
    """The network, the output cell's voltage before and after training, loss, predictions."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(17, 4))
    ax_net, ax_v, ax_loss, ax_pred = axes
    net = result["net"]
    net.arrange_in_layers([2, 1], within_layer_offset=60.0, between_layer_offset=70.0)
    net.vis(ax=ax_net, synapse_color="C3")
    ax_net.set(xlabel="x (µm)", ylabel="y (µm)", title="network: 2 input cells -> output")
    ax_net.set_aspect("equal")
    t = np.arange(result["traces_before"].shape[1]) * DELTA_T
    for k, (features, style) in enumerate(zip(EXAMPLE_INPUTS, ("C0", "C1"), strict=True)):
        label = f"inputs {features[0]:.1f}, {features[1]:.1f}"
        ax_v.plot(
            t, result["traces_before"][k], color=style, ls="--", lw=1, label=f"{label}, before"
        )
        ax_v.plot(t, result["traces_after"][k], color=style, lw=1.5, label=f"{label}, after")
    ax_v.axvspan(I_DELAY, I_DELAY + I_DUR, color="0.9", zorder=0)
    ax_v.set(
        xlabel="time (ms)", ylabel="output cell soma (mV)", title="voltage before / after training"
    )
    ax_v.legend(fontsize=7, loc="upper right")
    ax_loss.plot(np.arange(1, result["losses"].size + 1), result["losses"], "o-")
    ax_loss.set(xlabel="epoch", ylabel="binary cross-entropy", title="training loss")
    diff = result["inputs"][:, 0] - result["inputs"][:, 1]
    ax_pred.scatter(diff, result["predictions_before"], s=12, c="0.6", label="before training")
    ax_pred.scatter(diff, result["predictions_after"], s=12, c="C1", label="after training")
    ax_pred.step(np.sort(diff), np.sort(diff) > 0, "k--", lw=1, where="mid", label="label")
    ax_pred.set(xlabel="input 0 - input 1", ylabel="P(input 0 > input 1)", title="predictions")
    ax_pred.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--out", default="train_network.png", help="PNG file to write")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    result = train(epochs=args.epochs, seed=args.seed)
    accuracy = np.mean((result["predictions_after"] > 0.5) == (result["labels"] > 0.5))
    print(
        f"final loss {result['losses'][-1]:.4f} (first epoch {result['losses'][0]:.4f}), "
        f"training accuracy {accuracy:.0%}, {time.perf_counter() - start:.1f} s"
    )
    plot(result, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
