"""Geometry of cylindrical compartments (Jaxley's `jaxley.utils.morph_attributes` names).

A compartment built from a length and a radius (not from traced SWC points) is a cylinder.
The functions take lengths and radii in µm, broadcast like numpy/JAX arrays (shape `(M,)`
for `M` compartments, or scalars), and work on traced JAX values as well. Traced (frustum)
geometry lives in `dendrax.morphology.geometry`.
"""

from __future__ import annotations

import jax.numpy as jnp

from dendrax.morphology.geometry import (
    frustum_lateral_area,
    frustum_resistive_load,
    frustum_volume,
)

__all__ = [
    "cylinder_area",
    "cylinder_volume",
    "cylinder_resistive_load",
    "frustum_lateral_area",
    "frustum_volume",
    "frustum_resistive_load",
]


def cylinder_area(length, radius):
    """Lateral membrane area `2 π r L` of cylinders (µm²)."""
    return 2.0 * jnp.pi * radius * length


def cylinder_volume(length, radius):
    """Volume `π r² L` of cylinders (µm³)."""
    return jnp.pi * radius**2 * length


def cylinder_resistive_load(length, radius):
    """Resistive load `∫ dl / (π r²) = L / (π r²)` of cylinders (1/µm).

    Multiplied by the axial resistivity (Ω cm) it gives the axial resistance of the piece
    (up to the µm -> cm factor), which is how compartment couplings are formed.
    """
    return length / (jnp.pi * radius**2)
