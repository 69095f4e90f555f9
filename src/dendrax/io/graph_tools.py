"""Utilities on compartment graphs (see `dendrax.io.graph`): joining two graphs, plotting one.

Both need networkx (`pip install 'dendrax[graph]'`); plotting also needs matplotlib.
"""

from __future__ import annotations

import numpy as np

from dendrax.io.graph import _nx

__all__ = ["connect_graphs", "vis_compartment_graph"]


def _is_comp(graph, node) -> bool:
    return graph.nodes[node].get("type", "comp") == "comp"


def connect_graphs(graph1, graph2, node1, node2):
    """A new compartment graph: ``graph2`` attached as a subtree of ``graph1``.

    The edge ``node1 -> node2`` joins them. ``node1`` is a branchpoint of ``graph1`` or the
    last compartment of one of its branches (the attachment point must be a branch end);
    ``node2`` is the first compartment of ``graph2``'s root branch. Nodes of ``graph2`` are
    renumbered after those of ``graph1``, its branches after ``graph1``'s, and everything
    joins cell 0. ``from_graph`` of the result is one Cell.

    Raises:
        ValueError: if a node is missing or is not a valid attachment point.
    """
    nx = _nx()
    for graph, node, name in ((graph1, node1, "node1"), (graph2, node2, "node2")):
        if node not in graph:
            raise ValueError(f"connect_graphs: {name}={node!r} is not a node of its graph.")
    if _is_comp(graph1, node1):
        a = graph1.nodes[node1]
        same_branch = [
            v
            for v, d in graph1.nodes(data=True)
            if d.get("type", "comp") == "comp" and d["branch_index"] == a["branch_index"]
        ]
        if a["comp_index"] != max(graph1.nodes[v]["comp_index"] for v in same_branch):
            raise ValueError(
                f"connect_graphs: node1={node1!r} is compartment {a['comp_index']} inside its "
                "branch; attach at a branchpoint or at the last compartment of a branch."
            )
    b = graph2.nodes[node2]
    if not _is_comp(graph2, node2) or b["comp_index"] != 0 or graph2.in_degree(node2) != 0:
        raise ValueError(
            f"connect_graphs: node2={node2!r} must be the first compartment of graph2's root "
            "branch (a compartment with comp_index 0 and no predecessor)."
        )
    node_offset = max(int(v) for v in graph1.nodes) + 1
    branch_offset = 1 + max(
        d["branch_index"] for _, d in graph1.nodes(data=True) if d.get("type", "comp") == "comp"
    )
    second = nx.relabel_nodes(graph2, {v: int(v) + node_offset for v in graph2.nodes})
    for _, d in second.nodes(data=True):
        if d.get("type", "comp") == "comp":
            d["branch_index"] = d["branch_index"] + branch_offset
            d["cell_index"] = 0
    joined = nx.compose(graph1, second)
    joined.add_edge(node1, int(node2) + node_offset, type="branchpoint_to_branch")
    g1, g2 = graph1.graph, graph2.graph
    names = {ch.name for ch in g1.get("channels", [])}
    joined.graph = {
        **g1,
        "channels": list(g1.get("channels", []))
        + [ch for ch in g2.get("channels", []) if ch.name not in names],
        "groups": list(dict.fromkeys(list(g1.get("groups", [])) + list(g2.get("groups", [])))),
    }
    if "xyzr" in g1 and "xyzr" in g2:
        joined.graph["xyzr"] = list(g1["xyzr"]) + list(g2["xyzr"])
    else:
        joined.graph.pop("xyzr", None)
    if g1.get("frustum") is not None and g2.get("frustum") is not None:
        joined.graph["frustum"] = np.concatenate([g1["frustum"], g2["frustum"]])
    else:
        joined.graph.pop("frustum", None)
    return joined


def vis_compartment_graph(
    comp_graph,
    ax=None,
    font_size=7,
    node_size=150,
    arrowsize=10,
    comp_color="r",
    branchpoint_color="orange",
):
    """Draw a compartment graph at its nodes' ``x, y`` (µm), labelled by node id.

    Compartments are drawn in ``comp_color``, branchpoints in ``branchpoint_color``; a node
    without finite coordinates is placed at the mean of its neighbours'. Returns the axes.
    """
    import matplotlib.pyplot as plt

    nx = _nx()
    if ax is None:
        _, ax = plt.subplots()
    pos = {}
    for v, d in comp_graph.nodes(data=True):
        xy = np.array([d.get("x", np.nan), d.get("y", np.nan)], float)
        if np.all(np.isfinite(xy)):
            pos[v] = xy
    for v in comp_graph.nodes:
        if v not in pos:
            near = [pos[u] for u in nx.all_neighbors(comp_graph, v) if u in pos]
            pos[v] = np.mean(near, axis=0) if near else np.zeros(2)
    colors = [comp_color if _is_comp(comp_graph, v) else branchpoint_color for v in comp_graph]
    nx.draw_networkx(
        comp_graph,
        pos=pos,
        ax=ax,
        node_color=colors,
        node_size=node_size,
        font_size=font_size,
        arrowsize=arrowsize,
    )
    return ax
