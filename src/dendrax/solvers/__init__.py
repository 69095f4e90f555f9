"""Voltage solvers and the mapping of Jaxley's solver names onto dendrax's implementations.

Linear solvers of the implicit cable system (`voltage_solver`): "tree" (Hines elimination,
`tree.py`, O(n)), "sparse" (`jax.experimental.sparse` direct solve, `sparse.py`) and
"dense" (`jnp.linalg.solve` on the assembled matrix, `dense.py`, O(n³); small models and
reference use). Time-stepping schemes (`solver`): "bwd_euler", "crank_nicolson",
"fwd_euler" and "exp_euler" (exponential Euler with the dense propagator `expm(G dt)`).
"""

from dendrax.solvers.dense import coupling_matrix, dense_solve, exp_euler_step, transition_matrix
from dendrax.solvers.sparse import sparse_solve
from dendrax.solvers.tree import TreeOrder, build_tree_order, tree_offdiag_matvec, tree_solve

#: Voltage-solver names (Jaxley's and dendrax's) -> dendrax implementation.
VOLTAGE_SOLVERS = {
    "jaxley.dhs": "tree",
    "jaxley.dhs.cpu": "tree",
    "jaxley.dhs.gpu": "tree",
    "jaxley.stone": "tree",
    "jaxley.thomas": "tree",
    "tree": "tree",
    "jax.sparse": "sparse",
    "sparse": "sparse",
    "dense": "dense",
}

#: Time-stepping schemes for the voltage equation.
SOLVERS = ("bwd_euler", "crank_nicolson", "fwd_euler", "exp_euler")


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
    "sparse_solve",
    "dense_solve",
    "coupling_matrix",
    "transition_matrix",
    "exp_euler_step",
    "VOLTAGE_SOLVERS",
    "SOLVERS",
    "resolve_voltage_solver",
    "resolve_solver",
]
