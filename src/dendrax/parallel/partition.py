"""Cells of a compiled network and their assignment to the devices of a mesh axis.

A cell is a connected component of the compartment tree (`Structure.tree_parent`); cells
are numbered by their first compartment, which is the network's `global_cell_index` order.
Two strategies balance the compartment counts:

- "greedy" (the default): cells in decreasing compartment count (ties: lower cell index
  first), each onto the device with the fewest compartments so far (ties: lower device).
  The largest device then exceeds the mean by at most one cell's compartments.
- "blocks": contiguous runs of cells (cell order kept), cut where the running compartment
  count crosses `k / n_devices` of the total; neighbouring cells, which networks often
  connect more densely, stay together.

An explicit assignment (one device index per cell) is checked and used as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dendrax.parallel.errors import PartitionError

__all__ = ["Partition", "cell_of_compartments", "make_partition", "STRATEGIES"]

#: Names accepted as `partition=`.
STRATEGIES = ("greedy", "blocks")


@dataclass(frozen=True, eq=False)
class Partition:
    """Which device owns which cell.

    Attributes:
        cell_of_comp: (n_comp,) cell index of every compartment.
        device_of_cell: (n_cells,) device index (position along the mesh axis) of every cell.
        n_devices: devices along the mesh axis.
        strategy: "greedy", "blocks" or "explicit".
    """

    cell_of_comp: np.ndarray
    device_of_cell: np.ndarray
    n_devices: int
    strategy: str

    @property
    def n_cells(self) -> int:
        return int(self.device_of_cell.size)

    @property
    def device_of_comp(self) -> np.ndarray:
        """(n_comp,) device owning every compartment."""
        return self.device_of_cell[self.cell_of_comp]

    def cells_of(self, device: int) -> np.ndarray:
        """Cell indices owned by `device`, ascending."""
        return np.flatnonzero(self.device_of_cell == device)

    def comps_of(self, device: int) -> np.ndarray:
        """Global compartment indices owned by `device`, ascending."""
        return np.flatnonzero(self.device_of_comp == device)


def cell_of_compartments(tree_parent: np.ndarray, n_comp: int) -> np.ndarray:
    """(n_comp,) cell index of every compartment, cells numbered by their first compartment.

    Args:
        tree_parent: (n_nodes,) parent node of every node of the compartment tree (-1 for
            roots); compartments are nodes `0 .. n_comp - 1`, branch points follow.
    """
    parent = np.asarray(tree_parent, np.int64)
    root = np.where(parent >= 0, parent, np.arange(parent.size))
    while True:  # pointer jumping: log2(depth) rounds
        nxt = root[root]
        if np.array_equal(nxt, root):
            break
        root = nxt
    comp_root = root[:n_comp]
    roots, first = np.unique(comp_root, return_index=True)
    order = np.argsort(first, kind="stable")  # cells in order of their first compartment
    label = np.empty(roots.size, np.int64)
    label[order] = np.arange(roots.size)
    return label[np.searchsorted(roots, comp_root)]


def _greedy(sizes: np.ndarray, n_devices: int) -> np.ndarray:
    load = np.zeros(n_devices, np.int64)
    device = np.empty(sizes.size, np.int64)
    for cell in np.lexsort((np.arange(sizes.size), -sizes)):
        target = int(np.argmin(load))
        device[cell] = target
        load[target] += sizes[cell]
    return device


def _blocks(sizes: np.ndarray, n_devices: int) -> np.ndarray:
    n_cells = sizes.size
    before = np.cumsum(sizes) - sizes  # compartments before each cell
    targets = np.arange(1, n_devices) * sizes.sum() / n_devices
    cuts = np.searchsorted(before, targets, side="left")  # first cell of blocks 1 .. n-1
    # cut before the cell whose start is closest to the target
    earlier = np.maximum(cuts - 1, 0)
    closer = np.abs(before[earlier] - targets) < np.abs(
        before[np.minimum(cuts, n_cells - 1)] - targets
    )
    cuts = np.where(closer | (cuts >= n_cells), earlier, cuts)
    # at least one cell per block: cut k lies in [k, n_cells - (n_devices - k)]
    for k in range(n_devices - 1):
        low = k + 1 if k == 0 else max(k + 1, cuts[k - 1] + 1)
        cuts[k] = min(max(cuts[k], low), n_cells - (n_devices - 1 - k))
    return np.searchsorted(cuts, np.arange(n_cells), side="right").astype(np.int64)


def make_partition(cell_of_comp: np.ndarray, n_devices: int, partition=None) -> Partition:
    """The `Partition` of a network's cells over `n_devices` devices.

    Args:
        cell_of_comp: (n_comp,) cell index of every compartment (`cell_of_compartments`).
        n_devices: devices along the mesh axis.
        partition: None or "greedy", "blocks", or a sequence of one device index
            (0 .. n_devices - 1) per cell.

    Raises:
        PartitionError: more devices than cells; an explicit assignment of the wrong length,
            with device indices out of range or not integers, or that leaves a device
            without cells; an unknown strategy name.
    """
    sizes = np.bincount(cell_of_comp)
    n_cells = sizes.size
    if partition is None:
        partition = "greedy"
    if isinstance(partition, str):
        if partition not in STRATEGIES:
            raise PartitionError(
                f"partition={partition!r} is not a strategy; use one of {STRATEGIES} or a "
                "sequence of one device index per cell."
            )
        if n_cells < n_devices:
            raise PartitionError(
                f"The network has {n_cells} cell(s) but the mesh axis has {n_devices} "
                f"devices: a split would leave {n_devices - n_cells} device(s) without cells. "
                f"Use a mesh of at most {n_cells} devices (dendrax.parallel.make_mesh"
                f"({n_cells})), or more cells."
            )
        split = _greedy if partition == "greedy" else _blocks
        return Partition(cell_of_comp, split(sizes, n_devices), n_devices, partition)
    return Partition(cell_of_comp, _explicit(partition, n_cells, n_devices), n_devices, "explicit")


def _explicit(partition, n_cells: int, n_devices: int) -> np.ndarray:
    values = np.asarray(partition)
    if values.ndim != 1 or values.size != n_cells:
        raise PartitionError(
            f"An explicit partition gives one device index per cell: the network has {n_cells} "
            f"cells, but partition has shape {values.shape}."
        )
    if values.dtype.kind not in "iu":
        if values.dtype.kind == "f" and np.all(np.isfinite(values)) and np.all(values % 1 == 0):
            values = values.astype(np.int64)
        else:
            raise PartitionError(
                f"An explicit partition holds integer device indices; got dtype {values.dtype}."
            )
    bad = np.flatnonzero((values < 0) | (values >= n_devices))
    if bad.size:
        raise PartitionError(
            f"partition[{int(bad[0])}] = {int(values[bad[0]])} is not a device index: the mesh "
            f"axis has {n_devices} devices (indices 0 .. {n_devices - 1})."
        )
    empty = sorted(set(range(n_devices)) - set(values.tolist()))
    if empty:
        raise PartitionError(
            f"The explicit partition leaves device(s) {empty} without cells; every device "
            f"along the mesh axis needs at least one. Assign cells to them, or use a mesh of "
            f"{n_devices - len(empty)} devices."
        )
    return values.astype(np.int64)
