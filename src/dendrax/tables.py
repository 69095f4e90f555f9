"""Columnar tables of compartments: construction and concatenation (numpy only; core layer).

A module's compartments are rows of a dict of equally long numpy columns. Compartments of a
branch are contiguous and ordered from the proximal (0) to the distal (1) end; branches of a
cell are contiguous; cells of a network are contiguous.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "INDEX_COLUMNS",
    "GEOMETRY_COLUMNS",
    "DEFAULT_COMPARTMENT_PARAMS",
    "DEFAULT_COMPARTMENT_STATES",
    "cylinder_geometry",
    "single_compartment_nodes",
    "concat_nodes",
    "index_columns",
]

INDEX_COLUMNS = (
    "local_cell_index",
    "local_branch_index",
    "local_comp_index",
    "global_cell_index",
    "global_branch_index",
    "global_comp_index",
)
#: Derived geometry, recomputed from radius and length for cylindrical compartments.
GEOMETRY_COLUMNS = ("area", "volume", "resistive_load_in", "resistive_load_out")
DEFAULT_COMPARTMENT_PARAMS = {
    "length": 10.0,  # µm
    "radius": 1.0,  # µm
    "axial_resistivity": 5000.0,  # Ω·cm
    "capacitance": 1.0,  # µF/cm²
}
DEFAULT_COMPARTMENT_STATES = {"v": -70.0}  # mV


def cylinder_geometry(radius, length):
    """Area (µm²), volume (µm³) and half-compartment resistive loads (1/µm) of cylinders."""
    radius = np.asarray(radius, dtype=float)
    length = np.asarray(length, dtype=float)
    load = (length / 2.0) / (np.pi * radius**2)
    return {
        "area": 2.0 * np.pi * radius * length,
        "volume": np.pi * radius**2 * length,
        "resistive_load_in": load,
        "resistive_load_out": load.copy(),
    }


def single_compartment_nodes() -> dict[str, np.ndarray]:
    """The node table of one default compartment."""
    nodes = {name: np.zeros(1, dtype=np.int64) for name in INDEX_COLUMNS}
    for name, value in {**DEFAULT_COMPARTMENT_PARAMS, **DEFAULT_COMPARTMENT_STATES}.items():
        nodes[name] = np.full(1, value, dtype=float)
    nodes.update(cylinder_geometry(nodes["radius"], nodes["length"]))
    return nodes


def _fill_value(column: np.ndarray):
    if column.dtype == bool:
        return False
    if np.issubdtype(column.dtype, np.integer):
        return -1
    return np.nan


def concat_nodes(tables: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Concatenate node tables row-wise; columns missing in a table are filled (NaN/False)."""
    names: list[str] = []
    for table in tables:
        names.extend(k for k in table if k not in names)
    out = {}
    for name in names:
        template = next(t[name] for t in tables if name in t)
        parts = []
        for table in tables:
            n = len(next(iter(table.values())))
            if name in table:
                parts.append(table[name])
            else:
                parts.append(np.full(n, _fill_value(template), dtype=template.dtype))
        out[name] = np.concatenate(parts)
    return out


def index_columns(ncomp_per_branch: np.ndarray, branch_cell: np.ndarray) -> dict[str, np.ndarray]:
    """Local and global cell/branch/compartment indices of every compartment.

    Args:
        ncomp_per_branch: (n_branches,) compartments per branch.
        branch_cell: (n_branches,) cell of each branch (non-decreasing).
    """
    ncomp_per_branch = np.asarray(ncomp_per_branch, dtype=np.int64)
    branch_cell = np.asarray(branch_cell, dtype=np.int64)
    n_branches = ncomp_per_branch.size
    comp_branch = np.repeat(np.arange(n_branches), ncomp_per_branch)
    branch_start = np.concatenate([[0], np.cumsum(ncomp_per_branch)[:-1]])
    local_comp = np.arange(comp_branch.size) - branch_start[comp_branch]
    cell_first_branch = np.searchsorted(branch_cell, branch_cell, side="left")
    local_branch_of_branch = np.arange(n_branches) - cell_first_branch
    comp_cell = branch_cell[comp_branch]
    return {
        "local_cell_index": comp_cell.copy(),
        "local_branch_index": local_branch_of_branch[comp_branch],
        "local_comp_index": local_comp,
        "global_cell_index": comp_cell,
        "global_branch_index": comp_branch,
        "global_comp_index": np.arange(comp_branch.size),
    }
