"""Geometry of cylindrical compartments (`jaxley.utils.morph_attributes` names).

Lengths and radii in µm; areas in µm², volumes in µm³, resistive loads in 1/µm (multiply
by the axial resistivity to get a resistance).
"""

from __future__ import annotations

import numpy as np

__all__ = ["cylinder_area", "cylinder_volume", "cylinder_resistive_load"]


def cylinder_area(length, radius):
    """Lateral membrane area 2 π r L of cylinders (µm²); no end caps."""
    return 2.0 * np.pi * np.asarray(radius) * np.asarray(length)


def cylinder_volume(length, radius):
    """Volume π r² L of cylinders (µm³)."""
    return np.pi * np.asarray(radius) ** 2 * np.asarray(length)


def cylinder_resistive_load(length, radius):
    """Axial resistive load L / (π r²) of cylinders (1/µm).

    A compartment's `resistive_load_in` / `_out` is this for half its length.
    """
    return np.asarray(length) / (np.pi * np.asarray(radius) ** 2)
