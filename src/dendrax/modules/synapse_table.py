"""Builder writes of the edge table: appending synapses, copying node columns to edges.

The columns are computed by the pure functions of `dendrax.synapses.edges`; the functions
here store them in a base module and bump its version.
"""

from __future__ import annotations

import numpy as np

from dendrax.synapses.edges import (
    appended_edges,
    check_synapse,
    node_property_columns,
    synapse_type_index,
)

__all__ = ["append_synapses", "copy_node_property_to_edges"]


def append_synapses(module, pre, post, synapse) -> np.ndarray:
    """Append synapses `pre[i] -> post[i]` (global compartment indices) of type `synapse`
    to the base of `module`; returns the global edge indices of the new rows."""
    check_synapse(synapse)
    base = module.base
    type_ind = synapse_type_index(base._synapses, base._nodes, synapse)
    edges = appended_edges(
        base._edges,
        base._nodes,
        base._ncomp_per_branch,
        pre,
        post,
        synapse,
        len(base._synapses) if type_ind is None else type_ind,
    )
    if type_ind is None:
        base._synapses.append(synapse)
        n_comp = base._inds.size
        for key, default in {**synapse.node_params, **synapse.node_states}.items():
            if key not in base._nodes:
                base._nodes[key] = np.full(n_comp, float(default))
    n_old = int(base._edges["global_edge_index"].size) if base._edges else 0
    base._edges = edges
    base._touch(layout=True)
    return edges["global_edge_index"][n_old:]


def copy_node_property_to_edges(module, properties, pre_or_post=("pre", "post")) -> None:
    """Add edge columns `pre_<prop>` / `post_<prop>` holding node column `prop` of the
    pre-/postsynaptic compartment of every synapse (e.g. `global_cell_index`, `radius`)."""
    base = module.base
    base._edges.update(node_property_columns(base._nodes, base._edges, properties, pre_or_post))
    base._touch(layout=True)
