"""SWC reading, compartmentalization, frustum geometry, editing and distances."""

from .editing import d_lambda_ncomp, morph_connect, morph_delete
from .geometry import (
    frustum_lateral_area,
    frustum_resistive_load,
    frustum_volume,
    polyline_compartments,
    split_polyline,
)
from .layout import distance_direct, distance_pathwise
from .morphology import Morphology
from .swc_branches import swc_to_morphology
from .swc_parse import SWCError, SWCPoints, SWCRows, parse_swc, validate_points
from .swc_text import parse_swc_text

__all__ = [
    "Morphology",
    "SWCError",
    "SWCPoints",
    "SWCRows",
    "d_lambda_ncomp",
    "distance_direct",
    "distance_pathwise",
    "frustum_lateral_area",
    "frustum_resistive_load",
    "frustum_volume",
    "morph_connect",
    "morph_delete",
    "parse_swc",
    "parse_swc_text",
    "polyline_compartments",
    "split_polyline",
    "swc_to_morphology",
    "validate_points",
]
