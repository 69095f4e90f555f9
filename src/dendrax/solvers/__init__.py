"""Voltage solvers and the mapping of Jaxley's solver names onto dendrax's implementations.

Solvers are objects (`interfaces.py`), one per file, registered by name in `registry.py`.
Linear solvers of the implicit cable system (`voltage_solver`): "tree" (Hines elimination,
`tree.py`, O(n)), "level_parallel" (tree contraction, `level_parallel.py`, O(log n)
sequential steps: the default on GPU backends), "sparse" (`jax.experimental.sparse`
direct solve, `sparse.py`) and "dense" (`jnp.linalg.solve` on the assembled matrix,
`dense.py`, O(n³); small models and reference use). Time-stepping schemes (`solver`):
"bwd_euler", "crank_nicolson", "fwd_euler" and "exp_euler" (exponential Euler with the
dense propagator `expm(G dt)`).
"""

from dendrax.solvers.dense import coupling_matrix, dense_solve, exp_euler_step, transition_matrix
from dendrax.solvers.interfaces import LinearSolver, TimeScheme
from dendrax.solvers.registry import (
    LINEAR_SOLVER_ALIASES,
    LINEAR_SOLVERS,
    TIME_SCHEMES,
    linear_solver,
    register_linear_solver,
    register_time_scheme,
    time_scheme,
)
from dendrax.solvers.sparse import sparse_solve
from dendrax.solvers.tree import TreeOrder, build_tree_order, tree_offdiag_matvec, tree_solve

#: Voltage-solver names (Jaxley's and dendrax's) -> dendrax's registered linear solver.
VOLTAGE_SOLVERS = LINEAR_SOLVER_ALIASES

#: Time-stepping schemes for the voltage equation (registered names).
SOLVERS = tuple(TIME_SCHEMES)


def resolve_voltage_solver(name) -> LinearSolver:
    """The linear solver object for a voltage-solver name (dendrax's or Jaxley's)."""
    return linear_solver(name)


def resolve_solver(name) -> TimeScheme:
    """The time-scheme object for a `solver=` name."""
    return time_scheme(name)


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
    "LinearSolver",
    "TimeScheme",
    "LINEAR_SOLVERS",
    "TIME_SCHEMES",
    "register_linear_solver",
    "register_time_scheme",
    "linear_solver",
    "time_scheme",
]
