"""The graph backend (networkx, optional): SWC graphs, compartment graphs and modules.

* :func:`to_swc_graph`: SWC file -> ``nx.DiGraph`` of traced points, keyed by sample number
  (node attributes as in Jaxley: ``id`` the SWC *type* id, ``x, y, z, r`` µm, ``p`` the
  parent's sample number; edge attribute ``l``, the distance in µm).
* :func:`build_compartment_graph`: SWC graph -> compartment graph (Jaxley's rules).
* :func:`to_graph`: module -> compartment graph; :func:`from_graph`: the reverse.

A compartment graph has one node per compartment (``type="comp"``; attributes: every node
column of the module, e.g. ``radius`` µm, ``length`` µm, ``area`` µm², ``v`` mV, plus
``branch_index``, ``comp_index``, ``cell_index``, ``x, y, z`` µm, ``groups``) and one node per
branching point (``type="branchpoint"``). Edges run proximal -> distal: compartment k -> k+1
within a branch, parent's last compartment -> branchpoint -> children's first compartments.
Graph attributes carry ``channels`` (mechanism objects), ``groups`` and ``xyzr`` (traced
points per branch) so that ``from_graph(to_graph(m))`` rebuilds ``m`` exactly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dendrax.tables import cylinder_geometry, single_compartment_nodes

__all__ = ["build_compartment_graph", "from_graph", "to_graph", "to_swc_graph"]

_MIN_EDGE_LEN = 1e-5  # shortest SWC edge Jaxley keeps, so two points never coincide (µm)

_INDEX = (
    "local_cell_index",
    "local_branch_index",
    "local_comp_index",
    "global_cell_index",
    "global_branch_index",
    "global_comp_index",
)


def _nx():
    try:
        import networkx as nx
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("the graph backend needs networkx: pip install 'dendrax[graph]'") from err
    return nx


def to_swc_graph(fname, num_lines: int | None = None):
    """Read an SWC file (µm) into a directed graph of its points, parent -> child.

    Nodes are the sample numbers; their attributes are Jaxley's: ``id`` (the SWC type id,
    1 soma, 2 axon, 3 basal, 4 apical), ``x, y, z, r`` (µm) and ``p`` (parent sample number,
    -1 for a root). Edges carry ``l``, the Euclidean distance (µm, at least 1e-5).
    ``num_lines`` keeps only the first that many data lines (points), as Jaxley does.

    Raises:
        FileNotFoundError: no such file.
        SWCError: the file is not valid SWC (see :func:`dendrax.io.swc.read_swc`).
    """
    from dendrax.morphology.swc_parse import parse_swc_text, points_from_rows

    nx = _nx()
    path = Path(fname)
    if not path.is_file():
        raise FileNotFoundError(f"SWC file not found: {path}")
    rows = parse_swc_text(path.read_bytes(), str(path))
    if num_lines is not None:
        rows = rows.head(num_lines)
    points = points_from_rows(rows, str(path), allow_multiple_roots=True)
    g = nx.DiGraph()
    for k in range(len(points.ids)):
        x, y, z = (float(c) for c in points.xyz[k])
        g.add_node(
            int(points.ids[k]),
            id=int(points.types[k]),
            x=x,
            y=y,
            z=z,
            r=float(points.radius[k]),
            p=int(points.parent_ids[k]),
        )
    child = np.flatnonzero(points.parent_index >= 0)
    par = points.parent_index[child]
    for c, p in zip(child, par, strict=True):
        g.add_edge(int(points.ids[p]), int(points.ids[c]))
    return _add_missing_graph_attrs(g)


def _add_missing_graph_attrs(graph):
    """Fill in the SWC-graph attributes a hand-made graph lacks, in place; returns it.

    Missing node attributes get Jaxley's defaults: ``id`` 0 (undefined type), ``x, y, z``
    NaN (no coordinates), ``r`` 1 µm, ``p`` 0. Every edge gets ``l``, the Euclidean
    distance of its end points (µm, at least 1e-5; twice the radius for a self loop), or
    1 µm for every edge when the coordinates are unknown. So ``nx.Graph([(0, 1), (1, 2)])``
    becomes a chain of 1 µm pieces that :func:`build_compartment_graph` accepts.
    """
    defaults = {"id": 0, "x": np.nan, "y": np.nan, "z": np.nan, "r": 1.0, "p": 0}
    for _, attrs in graph.nodes(data=True):
        for key, value in defaults.items():
            attrs.setdefault(key, value)
    unknown = False
    for i, j, attrs in graph.edges(data=True):
        a, b = graph.nodes[i], graph.nodes[j]
        if i == j:
            d = 2.0 * float(a["r"])
        else:
            d = float(np.sqrt(sum((float(a[k]) - float(b[k])) ** 2 for k in "xyz")))
        unknown = unknown or np.isnan(d)
        attrs["l"] = max(d, _MIN_EDGE_LEN)  # NaN for unknown coordinates, replaced below
    if unknown:
        for _, _, attrs in graph.edges(data=True):
            attrs["l"] = 1.0
    return graph


def _parents_and_layout(swc_graph):
    """Parent of every node (or None) and finite ``(x, y, z)`` for every node (µm).

    A directed graph gives parents by its edges; an undirected one is traversed from
    Jaxley's root (the lowest-numbered node of degree < 2). Nodes without coordinates
    are placed at their parent's position shifted by the edge's ``l`` along x, so that
    every edge keeps its length.
    """
    nx = _nx()
    if swc_graph.is_directed():
        parent = {v: next(iter(swc_graph.predecessors(v)), None) for v in swc_graph.nodes}
        order = list(nx.topological_sort(swc_graph))
    else:
        root = min(v for v in swc_graph.nodes if swc_graph.degree(v) < 2)
        parent = {root: None}
        parent.update({v: u for u, v in nx.bfs_edges(swc_graph, root)})
        order = [root] + [v for _, v in nx.bfs_edges(swc_graph, root)]
    xyz = {}
    for v in order:
        a = swc_graph.nodes[v]
        pos = np.array([float(a.get(k, np.nan)) for k in "xyz"])
        if np.isnan(pos).any():
            u = parent[v]
            if u is None:
                pos = np.zeros(3)
            else:
                step = float(swc_graph.edges[u, v].get("l", 1.0))
                pos = xyz[u] + np.array([step, 0.0, 0.0])
        xyz[v] = pos
    return parent, xyz


def build_compartment_graph(
    swc_graph,
    ncomp: int,
    root=None,
    min_radius=None,
    max_len=None,
    ignore_swc_tracing_interruptions: bool = True,
    relevant_type_ids=None,
):
    """Compartmentalize an SWC graph (from :func:`to_swc_graph`) into a compartment graph.

    ``root`` is accepted for Jaxley compatibility; the traversal root follows Jaxley's rule
    (lowest id with at most one neighbour).
    """
    from dendrax.io.swc import cell_from_points
    from dendrax.morphology.swc_parse import validate_points

    parent, xyz = _parents_and_layout(swc_graph)
    # SWC sample numbers must be non-negative integers: number the nodes 1..n in their own
    # order (sorted where they are comparable), which keeps Jaxley's lowest-id root rule.
    try:
        names = sorted(swc_graph.nodes)
    except TypeError:
        names = list(swc_graph.nodes)
    number = {v: k + 1 for k, v in enumerate(names)}
    attrs = [swc_graph.nodes[v] for v in names]
    points = validate_points(
        np.arange(1, len(names) + 1),
        np.array([int(a.get("id", 0)) for a in attrs], dtype=np.int64),
        np.array([xyz[v] for v in names], dtype=np.float64).reshape(-1, 3),
        np.array([float(a.get("r", 1.0)) for a in attrs], dtype=np.float64),
        np.array([-1 if parent[v] is None else number[parent[v]] for v in names], np.int64),
        source="SWC graph",
        allow_zero_radius=min_radius is not None,
    )
    cell = cell_from_points(
        points,
        ncomp,
        max_branch_len=max_len,
        min_radius=min_radius,
        ignore_swc_tracing_interruptions=ignore_swc_tracing_interruptions,
        relevant_type_ids=relevant_type_ids,
    )
    return to_graph(cell)


def to_graph(module, synapses: bool = False, channels: bool = False):
    """The compartment graph of ``module`` (its base module); see the module docstring."""
    from dendrax.morphology.layout import compartment_centers

    nx = _nx()
    base = module.base
    tables = base.tables
    nodes = tables.nodes
    ncomp_per_branch = tables.ncomp_per_branch
    n = int(ncomp_per_branch.sum())
    # Stored positions (SWC reader, compute_compartment_centers) win; otherwise centers.
    centers = compartment_centers(tables.xyzr, ncomp_per_branch)
    for d, key in enumerate("xyz"):
        if key in nodes:
            centers[:, d] = nodes[key]
    g = nx.DiGraph()
    g.graph.update(
        ncomp=int(ncomp_per_branch.max()),
        channels=list(tables.channels),
        groups=list(tables.groups),
        xyzr=[np.array(x, copy=True) for x in tables.xyzr],
        frustum=np.array(tables.frustum, copy=True),
        module_type=type(base).__name__,
    )
    if synapses and tables.edges:
        # The synapse table travels with the graph (not as graph edges, which would join
        # cells into one tree for `from_graph`); `from_graph` rebuilds it as it was.
        g.graph["synapses"] = list(tables.synapses)
        g.graph["synapse_edges"] = {k: np.array(v, copy=True) for k, v in tables.edges.items()}
    cols = [k for k in nodes if k not in _INDEX]
    for i in range(n):
        attrs = {
            k: nodes[k][i].item() if hasattr(nodes[k][i], "item") else nodes[k][i] for k in cols
        }
        attrs.update(
            type="comp",
            branch_index=int(nodes["global_branch_index"][i]),
            comp_index=int(nodes["local_comp_index"][i]),
            cell_index=int(nodes["global_cell_index"][i]),
            x=float(centers[i, 0]),
            y=float(centers[i, 1]),
            z=float(centers[i, 2]),
            groups=[grp for grp in tables.groups if nodes[grp][i]],
        )
        g.add_node(i, **attrs)
    off = np.concatenate([[0], np.cumsum(ncomp_per_branch)])
    branch = nodes["global_branch_index"]
    for i in np.flatnonzero(branch[1:] == branch[:-1]):
        g.add_edge(int(i), int(i) + 1, type="inter_branch")
    bp = n
    for b in range(len(ncomp_per_branch)):
        kids = np.flatnonzero(tables.branch_parents == b)
        if kids.size:
            xyzr = tables.xyzr
            end = np.asarray(xyzr[b])[-1] if b < len(xyzr) else np.full(4, np.nan)
            last = int(off[b + 1] - 1)  # the parent's distal compartment
            # Jaxley's branchpoint attributes: zero length, the parent's radius and groups.
            g.add_node(
                bp,
                type="branchpoint",
                x=float(end[0]),
                y=float(end[1]),
                z=float(end[2]),
                length=0.0,
                radius=float(nodes["radius"][last]),
                groups=list(g.nodes[last]["groups"]),
                cell_index=int(nodes["global_cell_index"][last]),
            )
            g.add_edge(int(off[b + 1] - 1), bp, type="branch_to_branchpoint")
            for k in kids:
                g.add_edge(bp, int(off[k]), type="branchpoint_to_branch")
            bp += 1
    return g


def from_graph(
    comp_graph, assign_groups: bool = True, solve_root=None, traverse_for_solve_order: bool = True
):
    """Build a Cell (or Network, for several ``cell_index`` values) from a compartment graph.

    Compartment nodes need ``branch_index`` and ``comp_index``, and ``length`` and
    ``radius`` (µm) unless they carry the full node columns written by :func:`to_graph`.
    """
    from dendrax.modules.cell import Cell
    from dendrax.modules.network import Network

    g = comp_graph
    comps = [(v, a) for v, a in g.nodes(data=True) if a.get("type", "comp") == "comp"]
    if not comps:
        raise ValueError("from_graph: the graph has no compartment nodes.")
    for v, a in comps:
        if "branch_index" not in a or "comp_index" not in a:
            raise ValueError(f"from_graph: node {v} lacks 'branch_index'/'comp_index'.")
    comps.sort(key=lambda va: (va[1]["branch_index"], va[1]["comp_index"]))
    order = {v: i for i, (v, _) in enumerate(comps)}
    branch = np.array([a["branch_index"] for _, a in comps])
    uniq, ncomp = np.unique(branch, return_counts=True)
    bmap = {b: k for k, b in enumerate(uniq)}
    n_b = len(uniq)
    parents = np.full(n_b, -1)

    def comp_pred(v):  # nearest compartment upstream of v, through a branchpoint
        for u in g.predecessors(v):
            if u in order:
                return u
            for w in g.predecessors(u):
                if w in order:
                    return w
        return None

    for v, a in comps:
        if a["comp_index"] == 0:
            u = comp_pred(v)
            if u is not None:
                parents[bmap[a["branch_index"]]] = bmap[g.nodes[u]["branch_index"]]
    cell_of = np.array([a.get("cell_index", 0) for _, a in comps])
    branch_cell = cell_of[np.concatenate([[0], np.cumsum(ncomp)[:-1]])]
    defaults = single_compartment_nodes()
    skip = set(_INDEX) | {
        "type",
        "branch_index",
        "comp_index",
        "cell_index",
        "groups",
        "xyzr",
    }
    keys = []
    for _, a in comps:
        keys.extend(k for k in a if k not in skip and k not in keys)
    nodes = {}
    for k in keys:
        vals = [a.get(k, np.nan) for _, a in comps]
        nodes[k] = np.asarray(vals, dtype=bool if isinstance(vals[0], (bool, np.bool_)) else float)
    for k, v in defaults.items():
        if k not in nodes and k not in _INDEX:
            nodes[k] = np.full(len(comps), v[0])
    if "area" not in {k for _, a in comps for k in a}:
        nodes.update(cylinder_geometry(nodes["radius"], nodes["length"]))
    groups = list(g.graph.get("groups", []))
    if assign_groups and not groups:
        names = sorted({grp for _, a in comps for grp in a.get("groups", [])})
        for grp in names:
            nodes[grp] = np.array([grp in a.get("groups", []) for _, a in comps])
        groups = names
    for grp in groups:
        nodes[grp] = nodes[grp].astype(bool)
    channels = list(g.graph.get("channels", []))
    for ch in channels:
        nodes[ch.name] = nodes[ch.name].astype(bool)
    xyzr = g.graph.get("xyzr") or [np.full((1, 4), np.nan) for _ in range(n_b)]
    frustum = g.graph.get("frustum")
    if len(xyzr) != n_b:
        # A subgraph (e.g. trimmed dendrites) keeps its parent graph's per-branch points:
        # pick those of the branches still present (branch_index is the original index).
        xyzr = [xyzr[int(b)] for b in uniq]
    if frustum is not None and len(frustum) != len(comps):
        # Per-compartment flags, indexed by the original compartment (node) number.
        frustum = np.asarray(frustum, bool)[[int(v) for v, _ in comps]]
    if np.unique(branch_cell).size > 1:  # several cells: split into a network
        cells = []
        for c in np.unique(branch_cell):
            keep = np.flatnonzero(branch_cell == c)
            # The cell's compartments and its branchpoints (they carry its topology).
            members = [v for v, a in g.nodes(data=True) if a.get("cell_index", 0) == c]
            sub = g.subgraph(members).copy()
            sub.graph.update(
                g.graph,
                xyzr=[xyzr[k] for k in keep],
                frustum=None
                if frustum is None
                else np.asarray(frustum)[np.isin(branch, uniq[keep])],
            )
            for v in sub.nodes:
                sub.nodes[v]["cell_index"] = 0
            sub.graph.pop("synapses", None)
            sub.graph.pop("synapse_edges", None)
            cells.append(from_graph(sub, assign_groups, solve_root, traverse_for_solve_order))
        net = Network(cells)
        if g.graph.get("synapse_edges"):
            net = _with_synapses(net, g.graph["synapses"], g.graph["synapse_edges"])
        return net
    return Cell.from_tables(
        nodes=nodes,
        branch_parents=parents,
        ncomp_per_branch=ncomp,
        branch_cell=np.zeros(n_b, np.int64),
        channels=channels,
        groups=groups,
        xyzr=xyzr,
        frustum=frustum,
    )


def _with_synapses(net, synapses, edge_columns):
    """``net`` with the synapse table exported by ``to_graph(..., synapses=True)``."""
    tables = net.tables
    n = len(next(iter(edge_columns.values())))
    n_comp = int(tables.ncomp_per_branch.sum())
    for key in ("pre_index", "post_index"):
        idx = np.asarray(edge_columns.get(key, np.zeros(0)), np.int64)
        if idx.size != n or (n and (idx.min() < 0 or idx.max() >= n_comp)):
            raise ValueError(
                f"from_graph: synapse column {key!r} does not fit the graph's compartments"
            )
    return type(net).from_tables(
        like=net,
        nodes=dict(tables.nodes),
        branch_parents=tables.branch_parents,
        ncomp_per_branch=tables.ncomp_per_branch,
        branch_cell=tables.branch_cell,
        channels=tables.channels,
        groups=tables.groups,
        xyzr=list(tables.xyzr),
        frustum=tables.frustum,
        synapses=synapses,
        edges=edge_columns,
    )


from dendrax.io.graph_tools import connect_graphs, vis_compartment_graph  # noqa: E402

__all__ += ["connect_graphs", "vis_compartment_graph"]
