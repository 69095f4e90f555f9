"""Read SWC morphologies: ``read_swc`` returns a Cell, ``read_morphology_arrays`` the arrays.

Every reader goes the same way: file -> point arrays -> :func:`validate_points` ->
:class:`SWCPoints` -> branch builder -> :class:`Morphology` -> ``Cell``. Only the first step
depends on the format (:func:`cell_from_points` is the shared rest).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..morphology.morphology import Morphology
from ..morphology.swc_branches import swc_to_morphology
from ..morphology.swc_parse import SWCPoints, parse_swc, validate_points
from ..morphology.swc_text import SWCError

__all__ = [
    "SWCError",
    "cell_from_points",
    "read_morphology_arrays",
    "read_swc",
    "validate_points",
]


def read_morphology_arrays(
    fname: str | Path,
    ncomp: int,
    max_branch_len: float | None = None,
    min_radius: float | None = None,
    ignore_swc_tracing_interruptions: bool = True,
    relevant_type_ids: Sequence[int] | None = None,
    allow_multiple_roots: bool = True,
) -> Morphology:
    """Parse and compartmentalize an SWC file into a :class:`Morphology` (numpy arrays).

    Args:
        fname: SWC file (µm coordinates, column 6 is the radius).
        ncomp: compartments per branch.
        max_branch_len: split branches longer than this (µm).
        min_radius: lower bound of compartment radii (µm); also admits traced radii of 0.
        ignore_swc_tracing_interruptions: if False, split branches traced out of order.
        relevant_type_ids: type ids that start a new branch on change (default [1, 2, 3, 4]).
        allow_multiple_roots: accept several roots with a warning (Jaxley-compatible); only
            the tree holding the traversal root is used. If False, raise ``SWCError``.

    Raises:
        FileNotFoundError: no such file.
        SWCError: the file is not valid SWC (the message names file and line).
        ValueError: bad arguments.
    """
    points = parse_swc(
        fname,
        allow_multiple_roots=allow_multiple_roots,
        allow_zero_radius=min_radius is not None,
    )
    return swc_to_morphology(
        points,
        ncomp,
        max_branch_len=max_branch_len,
        min_radius=min_radius,
        ignore_swc_tracing_interruptions=ignore_swc_tracing_interruptions,
        relevant_type_ids=relevant_type_ids,
    )


def cell_from_points(
    points: SWCPoints,
    ncomp: int,
    max_branch_len: float | None = None,
    min_radius: float | None = None,
    assign_groups: bool = True,
    ignore_swc_tracing_interruptions: bool = True,
    relevant_type_ids: Sequence[int] | None = None,
):
    """A ``Cell`` from a validated point table (from any reader); arguments as ``read_swc``."""
    morph = swc_to_morphology(
        points,
        ncomp,
        max_branch_len=max_branch_len,
        min_radius=min_radius,
        ignore_swc_tracing_interruptions=ignore_swc_tracing_interruptions,
        relevant_type_ids=relevant_type_ids,
    )
    from ..modules.cell import cell_from_morphology  # lazy: the builder imports io

    return cell_from_morphology(morph, assign_groups=assign_groups)


def read_swc(
    fname: str | Path,
    ncomp: int,
    max_branch_len: float | None = None,
    min_radius: float | None = None,
    assign_groups: bool = True,
    backend: str = "graph",
    ignore_swc_tracing_interruptions: bool = True,
    relevant_type_ids: Sequence[int] | None = None,
    allow_multiple_roots: bool = True,
):
    """Read an SWC file into a ``Cell`` (Jaxley's ``read_swc``).

    Args:
        fname: SWC file.
        ncomp: compartments per branch.
        max_branch_len: split branches longer than this (µm).
        min_radius: lower bound of compartment radii (µm).
        assign_groups: add groups soma/axon/basal/apical/custom<id> from the SWC type ids.
        backend: only ``"graph"`` (Jaxley's only remaining backend).
        ignore_swc_tracing_interruptions: if False, split branches traced out of order.
        relevant_type_ids: type ids that start a new branch on change (default [1, 2, 3, 4]).
        allow_multiple_roots: see :func:`read_morphology_arrays`.

    Returns:
        ``dendrax.Cell``.

    Raises:
        FileNotFoundError: no such file.
        SWCError: the file is not valid SWC; the message names the file, line and column
            (see :mod:`dendrax.morphology.swc_text` and :mod:`dendrax.morphology.swc_parse`
            for the rules).
    """
    if backend != "graph":
        raise ValueError(f"backend must be 'graph' (the only SWC backend), got {backend!r}")
    points = parse_swc(
        fname,
        allow_multiple_roots=allow_multiple_roots,
        allow_zero_radius=min_radius is not None,
    )
    return cell_from_points(
        points,
        ncomp,
        max_branch_len=max_branch_len,
        min_radius=min_radius,
        assign_groups=assign_groups,
        ignore_swc_tracing_interruptions=ignore_swc_tracing_interruptions,
        relevant_type_ids=relevant_type_ids,
    )
