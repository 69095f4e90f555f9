"""Voltage solvers: tree (Hines) elimination and the mapping of Jaxley's solver names."""

from dendrax.solvers.tree import TreeOrder, build_tree_order, tree_offdiag_matvec, tree_solve

#: Jaxley's voltage-solver names, all served by dendrax's level-parallel tree solver.
VOLTAGE_SOLVERS = {
    "jaxley.dhs": "tree",
    "jaxley.dhs.cpu": "tree",
    "jaxley.dhs.gpu": "tree",
    "jaxley.stone": "tree",
    "jaxley.thomas": "tree",
    "jax.sparse": "tree",
    "tree": "tree",
}

#: Time-stepping schemes for the voltage equation.
SOLVERS = ("bwd_euler", "crank_nicolson", "fwd_euler")


def resolve_voltage_solver(name: str) -> str:
    """Map a voltage-solver name (dendrax's or Jaxley's) to dendrax's implementation."""
    if not isinstance(name, str) or name not in VOLTAGE_SOLVERS:
        raise ValueError(
            f"Unknown voltage_solver {name!r}. Valid names: {', '.join(sorted(VOLTAGE_SOLVERS))}."
        )
    return VOLTAGE_SOLVERS[name]


def resolve_solver(name: str) -> str:
    """Validate a time-stepping scheme name."""
    if name not in SOLVERS:
        raise ValueError(f"Unknown solver {name!r}. Valid solvers: {', '.join(SOLVERS)}.")
    return name


__all__ = [
    "TreeOrder",
    "build_tree_order",
    "tree_solve",
    "tree_offdiag_matvec",
    "VOLTAGE_SOLVERS",
    "SOLVERS",
    "resolve_voltage_solver",
    "resolve_solver",
]
