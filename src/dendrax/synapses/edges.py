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

__all__ = [
    "EDGE_INDEX_COLUMNS",
    "appended_edges",
    "check_synapse",
    "n_edges",
    "node_property_columns",
    "synapse_type_index",
]

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


def n_edges(edges) -> int:
    """Number of synapses in an edge table (a mapping of columns; empty without synapses)."""
    return int(edges["global_edge_index"].size) if edges else 0


def _comp_locs(nodes, ncomp_per_branch, comps: np.ndarray) -> np.ndarray:
    ncomp = np.asarray(ncomp_per_branch)[nodes["global_branch_index"][comps]]
    return (nodes["local_comp_index"][comps] + 0.5) / ncomp


def check_synapse(synapse) -> None:
    """Raise unless `synapse` is a `Synapse` instance with a known call convention."""
    if isinstance(synapse, type):
        raise TypeError(f"Pass a synapse instance, e.g. {synapse.__name__}(), not the class.")
    if not isinstance(synapse, Synapse):
        raise TypeError(f"Expected a Synapse instance; got {type(synapse).__name__}.")
    synapse_call_convention(synapse)


def synapse_type_index(synapses, nodes, synapse: Synapse) -> int | None:
    """Position of `synapse`'s type in `synapses` (None: a new type; checks name clashes).

    Raises:
        ValueError: a different synapse class has the same name, or its names are node
            columns (`nodes`: the node table) already.
    """
    names = [s.name for s in synapses]
    if synapse.name in names:
        existing = synapses[names.index(synapse.name)]
        if type(existing) is not type(synapse):
            raise ValueError(
                f"A different synapse type named {synapse.name!r} is already in the network; "
                "use synapse.change_name(...) to give this one another name."
            )
        return names.index(synapse.name)
    clashes = [k for k in {**synapse.synapse_params, **synapse.synapse_states} if k in nodes]
    if clashes or synapse.name in nodes:
        raise ValueError(
            f"Synapse {synapse.name!r}: names {clashes or [synapse.name]} are already node "
            "columns (channels, groups or parameters); rename the synapse."
        )
    return None


def appended_edges(edges, nodes, ncomp_per_branch, pre, post, synapse, type_ind: int) -> dict:
    """The edge table `edges` with synapses `pre[i] -> post[i]` of type `synapse` appended.

    Args:
        edges: the current edge columns (n_edges,) by name (empty without synapses).
        nodes: the node table (reads the index columns); ncomp_per_branch: (n_branches,).
        pre, post: (k,) global compartment indices.
        synapse: the `Synapse`; type_ind: its position among the network's synapse types.

    Returns:
        The new edge columns (n_edges + k,) by name (new arrays; `edges` is not changed).
        Vectorized: no loop over synapses.
    """
    pre = np.array(pre, dtype=np.int64).reshape(-1)  # copies: the table owns its columns
    post = np.array(post, dtype=np.int64).reshape(-1)
    if pre.shape != post.shape:
        raise ValueError(f"{pre.size} presynaptic but {post.size} postsynaptic compartments.")
    old, new = n_edges(edges), pre.size
    previous = edges["type"] if edges else np.zeros(0, object)
    within = int(np.count_nonzero(previous == synapse.name)) + np.arange(new)
    columns = {
        "global_edge_index": old + np.arange(new),
        "pre_index": pre,
        "post_index": post,
        "type": np.full(new, synapse.name, dtype=object),
        "type_ind": np.full(new, type_ind, dtype=np.int64),
        "index_within_type": within.astype(np.int64),
        "pre_locs": _comp_locs(nodes, ncomp_per_branch, pre),
        "post_locs": _comp_locs(nodes, ncomp_per_branch, post),
        "delay": np.zeros(new),
    }
    for key, default in {**synapse.synapse_params, **synapse.synapse_states}.items():
        columns[key] = np.full(new, float(default))
    for key in list(edges):
        if key not in columns:
            columns[key] = np.full(new, np.nan)
    out = {}
    for key, col in columns.items():
        if key in edges:
            out[key] = np.concatenate([edges[key], col.astype(edges[key].dtype)])
        else:
            out[key] = np.concatenate([np.full(old, np.nan), col]) if old else col
    return out


def node_property_columns(nodes, edges, properties, pre_or_post=("pre", "post")) -> dict:
    """Edge columns `pre_<prop>` / `post_<prop>`: node column `prop` of the pre-/post-
    synaptic compartment of every synapse (e.g. `global_cell_index`, `radius`)."""
    if not edges:
        raise ValueError("The module has no synapses; connect cells first.")
    props = [properties] if isinstance(properties, str) else list(properties)
    sides = [pre_or_post] if isinstance(pre_or_post, str) else list(pre_or_post)
    for side in sides:
        if side not in ("pre", "post"):
            raise ValueError(f"pre_or_post must contain 'pre' and/or 'post'; got {side!r}.")
    out = {}
    for prop in props:
        if prop not in nodes:
            raise unknown_name_error("node property", prop, list(nodes))
        for side in sides:
            comps = edges[f"{side}_index"]
            out[f"{side}_{prop}"] = np.array(nodes[prop][comps], copy=True)
    return out
