"""The edge table of a network: one row per synapse (numpy columns, vectorized appends).

Columns: `global_edge_index`, `pre_index` / `post_index` (global compartment indices),
`type` (synapse name, object), `type_ind`, `index_within_type`, `pre_locs` / `post_locs`
(position of the compartment centre on its branch, in [0, 1]), `delay` (ms, dendrax
extension, default 0), then the parameters and states of every synapse type (NaN in rows
of other types).
"""

from __future__ import annotations

import numpy as np

from dendrax.errors import unknown_name_error
from dendrax.synapses.synapse import Synapse, synapse_call_convention

__all__ = ["EDGE_INDEX_COLUMNS", "append_edges", "copy_node_property_to_edges", "n_edges"]

#: Structural edge columns, not settable with `set`.
EDGE_INDEX_COLUMNS = (
    "global_edge_index",
    "pre_index",
    "post_index",
    "type",
    "type_ind",
    "index_within_type",
    "pre_locs",
    "post_locs",
)


def n_edges(base) -> int:
    """Number of synapses in a base module."""
    return int(base._edges["global_edge_index"].size) if base._edges else 0


def _comp_locs(base, comps: np.ndarray) -> np.ndarray:
    nodes = base._nodes
    ncomp = base._ncomp_per_branch[nodes["global_branch_index"][comps]]
    return (nodes["local_comp_index"][comps] + 0.5) / ncomp


def _register(base, synapse: Synapse) -> int:
    if isinstance(synapse, type):
        raise TypeError(f"Pass a synapse instance, e.g. {synapse.__name__}(), not the class.")
    if not isinstance(synapse, Synapse):
        raise TypeError(f"Expected a Synapse instance; got {type(synapse).__name__}.")
    synapse_call_convention(synapse)
    names = [s.name for s in base._synapses]
    if synapse.name in names:
        existing = base._synapses[names.index(synapse.name)]
        if type(existing) is not type(synapse):
            raise ValueError(
                f"A different synapse type named {synapse.name!r} is already in the network; "
                "use synapse.change_name(...) to give this one another name."
            )
        return names.index(synapse.name)
    clashes = [k for k in {**synapse.synapse_params, **synapse.synapse_states} if k in base._nodes]
    if clashes or synapse.name in base._nodes:
        raise ValueError(
            f"Synapse {synapse.name!r}: names {clashes or [synapse.name]} are already node "
            "columns (channels, groups or parameters); rename the synapse."
        )
    base._synapses.append(synapse)
    n_comp = base._inds.size
    for key, default in {**synapse.node_params, **synapse.node_states}.items():
        if key not in base._nodes:
            base._nodes[key] = np.full(n_comp, float(default))
    return len(base._synapses) - 1


def append_edges(base, pre: np.ndarray, post: np.ndarray, synapse: Synapse) -> np.ndarray:
    """Append synapses `pre[i] -> post[i]` (global compartment indices) of type `synapse`.

    Returns the global edge indices of the new rows. Vectorized: no loop over synapses.
    """
    pre = np.asarray(pre, dtype=np.int64).reshape(-1)
    post = np.asarray(post, dtype=np.int64).reshape(-1)
    if pre.shape != post.shape:
        raise ValueError(f"{pre.size} presynaptic but {post.size} postsynaptic compartments.")
    type_ind = _register(base, synapse)
    old, new = n_edges(base), pre.size
    edges = base._edges
    previous = edges["type"] if edges else np.zeros(0, object)
    within = int(np.count_nonzero(previous == synapse.name)) + np.arange(new)
    columns = {
        "global_edge_index": old + np.arange(new),
        "pre_index": pre,
        "post_index": post,
        "type": np.full(new, synapse.name, dtype=object),
        "type_ind": np.full(new, type_ind, dtype=np.int64),
        "index_within_type": within.astype(np.int64),
        "pre_locs": _comp_locs(base, pre),
        "post_locs": _comp_locs(base, post),
        "delay": np.zeros(new),
    }
    for key, default in {**synapse.synapse_params, **synapse.synapse_states}.items():
        columns[key] = np.full(new, float(default))
    for key in list(edges):
        if key not in columns:
            columns[key] = np.full(new, np.nan)
    for key, col in columns.items():
        if key in edges:
            edges[key] = np.concatenate([edges[key], col.astype(edges[key].dtype)])
        else:
            edges[key] = np.concatenate([np.full(old, np.nan), col]) if old else col
    base._structure_changed()
    return columns["global_edge_index"]


def copy_node_property_to_edges(module, properties, pre_or_post=("pre", "post")) -> None:
    """Add edge columns `pre_<prop>` / `post_<prop>` holding node column `prop` of the
    pre-/postsynaptic compartment of every synapse (e.g. `global_cell_index`, `radius`)."""
    base = module.base
    if not base._edges:
        raise ValueError("The module has no synapses; connect cells first.")
    props = [properties] if isinstance(properties, str) else list(properties)
    sides = [pre_or_post] if isinstance(pre_or_post, str) else list(pre_or_post)
    for side in sides:
        if side not in ("pre", "post"):
            raise ValueError(f"pre_or_post must contain 'pre' and/or 'post'; got {side!r}.")
    for prop in props:
        if prop not in base._nodes:
            raise unknown_name_error("node property", prop, list(base._nodes))
        for side in sides:
            comps = base._edges[f"{side}_index"]
            base._edges[f"{side}_{prop}"] = np.array(base._nodes[prop][comps], copy=True)
