"""One registry of the time schemes and linear solvers, and Jaxley's names for them.

`integrate(..., solver=..., voltage_solver=...)` and `dendrax.compile` look names up here.
A new scheme or solver is available everywhere (and picked up by the contract tests) once
registered::

    register_linear_solver(MySolver(), aliases=("my.solver",))
"""

from __future__ import annotations

import jax

from dendrax.solvers.backward_euler import BackwardEuler
from dendrax.solvers.branched import BranchedSolver
from dendrax.solvers.crank_nicolson import CrankNicolson
from dendrax.solvers.dense import DenseSolver
from dendrax.solvers.exponential_euler import ExponentialEuler
from dendrax.solvers.forward_euler import ForwardEuler
from dendrax.solvers.interfaces import LinearSolver, TimeScheme
from dendrax.solvers.level_parallel import LevelParallelSolver
from dendrax.solvers.native_tree import NativeTreeSolver
from dendrax.solvers.sparse import SparseSolver
from dendrax.solvers.tree import TreeSolver

__all__ = [
    "TIME_SCHEMES",
    "LINEAR_SOLVERS",
    "LINEAR_SOLVER_ALIASES",
    "register_time_scheme",
    "register_linear_solver",
    "time_scheme",
    "linear_solver",
]

#: {name: TimeScheme}: the `solver=` names.
TIME_SCHEMES: dict[str, TimeScheme] = {}
#: {name: LinearSolver}: dendrax's own `voltage_solver=` names.
LINEAR_SOLVERS: dict[str, LinearSolver] = {}
#: {any accepted voltage_solver name (Jaxley's included): registered name}.
LINEAR_SOLVER_ALIASES: dict[str, str] = {}
#: {voltage_solver name: {jax backend: registered name}}: names that, as Jaxley's
#: "jaxley.dhs" does, choose by `jax.default_backend()` (the alias elsewhere). On CPU the
#: default is the compiled tree solve, which is the pure-JAX tree solve wherever its kernel
#: is not built (`native_tree.native_available`).
BACKEND_SOLVERS: dict[str, dict[str, str]] = {
    "jaxley.dhs": {"gpu": "level_parallel", "cpu": "tree.native"}
}


def register_time_scheme(scheme: TimeScheme) -> TimeScheme:
    """Make `scheme` available as `solver=scheme.name`."""
    if not isinstance(scheme, TimeScheme) or not scheme.name:
        raise TypeError(f"Expected a TimeScheme instance with a name; got {scheme!r}.")
    TIME_SCHEMES[scheme.name] = scheme
    return scheme


def register_linear_solver(solver: LinearSolver, aliases: tuple = ()) -> LinearSolver:
    """Make `solver` available as `voltage_solver=solver.name` and under `aliases`."""
    if not isinstance(solver, LinearSolver) or not solver.name:
        raise TypeError(f"Expected a LinearSolver instance with a name; got {solver!r}.")
    LINEAR_SOLVERS[solver.name] = solver
    for alias in (solver.name, *aliases):
        LINEAR_SOLVER_ALIASES[alias] = solver.name
    return solver


def time_scheme(name) -> TimeScheme:
    """The registered scheme called `name` (a TimeScheme instance passes through)."""
    if isinstance(name, TimeScheme):
        return name
    if not isinstance(name, str) or name not in TIME_SCHEMES:
        raise ValueError(f"Unknown solver {name!r}. Valid solvers: {', '.join(TIME_SCHEMES)}.")
    return TIME_SCHEMES[name]


def linear_solver(name) -> LinearSolver:
    """The registered linear solver for `name`, dendrax's or Jaxley's (an instance passes).

    "jaxley.dhs" (the default of `integrate` and `dendrax.compile`) is the level-parallel
    solver on GPU backends, the compiled tree solve ("tree.native": the same elimination,
    pure JAX where the kernel is not built) on CPU, and the tree solver elsewhere
    (`BACKEND_SOLVERS`).
    """
    if isinstance(name, LinearSolver):
        return name
    if not isinstance(name, str) or name not in LINEAR_SOLVER_ALIASES:
        raise ValueError(
            f"Unknown voltage_solver {name!r}. Valid names: "
            f"{', '.join(sorted(LINEAR_SOLVER_ALIASES))}."
        )
    chosen = BACKEND_SOLVERS.get(name, {}).get(jax.default_backend())
    return LINEAR_SOLVERS[chosen or LINEAR_SOLVER_ALIASES[name]]


for _scheme in (BackwardEuler(), CrankNicolson(), ForwardEuler(), ExponentialEuler()):
    register_time_scheme(_scheme)
# Jaxley's "jaxley.dhs" family (dendritic hierarchical scheduling), Stone's and Thomas's
# algorithms all solve the same tree system; dendrax solves it by Hines elimination, and
# Jaxley's GPU variant by level-parallel elimination (few sequential steps).
register_linear_solver(
    TreeSolver(),
    aliases=("jaxley.dhs", "jaxley.dhs.cpu", "jaxley.stone", "jaxley.thomas"),
)
register_linear_solver(LevelParallelSolver(), aliases=("jaxley.dhs.gpu",))
register_linear_solver(SparseSolver(), aliases=("jax.sparse",))
register_linear_solver(DenseSolver())
register_linear_solver(BranchedSolver())
register_linear_solver(NativeTreeSolver())
