"""SWC reading, compartmentalization and frustum geometry."""

from .geometry import (
    frustum_lateral_area,
    frustum_resistive_load,
    frustum_volume,
    polyline_compartments,
    split_polyline,
)
from .morphology import Morphology
from .swc_branches import swc_to_morphology
from .swc_parse import SWCError, SWCPoints, parse_swc

__all__ = [
    "Morphology",
    "SWCError",
    "SWCPoints",
    "frustum_lateral_area",
    "frustum_resistive_load",
    "frustum_volume",
    "parse_swc",
    "polyline_compartments",
    "split_polyline",
    "swc_to_morphology",
]
