"""Test helpers: locate the shared SWC folder and write random SWC trees."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

SWC_DIR = Path(
    os.environ.get("DENDRAX_SWC_DIR", Path(__file__).resolve().parents[2] / "../shared/data/swc")
).resolve()

requires_swc_dir = pytest.mark.skipif(
    not SWC_DIR.is_dir(),
    reason=f"shared SWC folder {SWC_DIR} is absent (set DENDRAX_SWC_DIR to run these tests)",
)


def shared_swc(name: str) -> Path:
    """Path of a shared SWC file (the caller must be marked ``requires_swc_dir``)."""
    return SWC_DIR / name


def shared_swc_names() -> list[str]:
    """Names of all shared SWC files ([] when the folder is absent)."""
    return sorted(p.name for p in SWC_DIR.glob("*.swc")) if SWC_DIR.is_dir() else []


def random_tree(seed: int, n_points: int = 60) -> np.ndarray:
    """A random neuron as an (n, 7) SWC table: single-point soma (id 1) and dendrites.

    Ids are 1..n with parent id < id; stems are basal (3) or apical (4) and keep their type;
    radii 0.2-2 µm, steps 1-10 µm. Every stem has at least two points and
    no branch starts at a stem's first point (that would make a zero-length branch).
    """
    rng = np.random.default_rng(seed)
    soma_r = rng.uniform(4.0, 8.0)
    rows = [[1, 1, 0.0, 0.0, 0.0, soma_r, -1]]
    stems = int(rng.integers(2, 5))
    for _ in range(stems):
        direction = rng.normal(size=3)
        direction /= np.linalg.norm(direction)
        t = 3 if rng.random() < 0.5 else 4
        start = direction * (soma_r + rng.uniform(0.5, 2.0))
        rows.append([len(rows) + 1, t, *start, rng.uniform(0.5, 2.0), 1])
        rows.append(
            [len(rows) + 1, t, *(start + 5.0 * direction), rng.uniform(0.3, 2.0), len(rows)]
        )
    while len(rows) < n_points:
        if rng.random() < 0.75:
            parent = len(rows)  # continue the last neurite
        else:  # branch off an earlier point, not a stem's first one (zero-length branch)
            candidates = [k + 1 for k, row in enumerate(rows) if row[6] > 1]
            parent = int(rng.choice(candidates))
        p = rows[parent - 1]
        step = rng.normal(size=3)
        step *= rng.uniform(1.0, 10.0) / np.linalg.norm(step)
        rows.append(
            [len(rows) + 1, p[1], *(np.asarray(p[2:5]) + step), rng.uniform(0.2, 2.0), parent]
        )
    return _renumber_depth_first(np.round(np.asarray(rows, dtype=float), 6))


def _renumber_depth_first(table: np.ndarray) -> np.ndarray:
    """Renumber points in depth-first order, so a neurite is never traced out of order
    (NEURON and Jaxley treat such tracing interruptions differently)."""
    parent = table[:, 6].astype(int)
    children: list[list[int]] = [[] for _ in range(len(table) + 1)]
    for k in range(1, len(table)):
        children[parent[k]].append(k + 1)
    order, stack = [], [1]
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(reversed(children[node]))
    new_id = np.zeros(len(table) + 1, dtype=int)
    new_id[order] = np.arange(1, len(table) + 1)
    out = table[np.asarray(order) - 1].copy()
    out[:, 0] = np.arange(1, len(table) + 1)
    out[1:, 6] = new_id[out[1:, 6].astype(int)]
    return out


def write_swc(path: Path, table: np.ndarray, header: str = "# generated for dendrax tests") -> Path:
    """Write an (n, 7) table as an SWC file and return its path."""
    lines = [header]
    for i, t, x, y, z, r, p in table:
        lines.append(f"{int(i)} {int(t)} {x:.6f} {y:.6f} {z:.6f} {r:.6f} {int(p)}")
    path.write_text("\n".join(lines) + "\n")
    return path
