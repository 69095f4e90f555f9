"""Former home of the compartment tables, now `dendrax.tables` (a core module, so that
`morphology/` and `simulator/` need not import the builder). Kept as an import path until
its last users (`simulator/structure.py`, `io/graph.py`) import `dendrax.tables`."""

from dendrax.tables import (
    DEFAULT_COMPARTMENT_PARAMS,
    DEFAULT_COMPARTMENT_STATES,
    GEOMETRY_COLUMNS,
    INDEX_COLUMNS,
    concat_nodes,
    cylinder_geometry,
    index_columns,
    single_compartment_nodes,
)

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
