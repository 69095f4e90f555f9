"""Forward (explicit) Euler: first order, stable only for dt below the cable's limit."""

from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp

from dendrax.solvers.interfaces import TimeScheme
from dendrax.solvers.tree import tree_offdiag_matvec

__all__ = ["ForwardEuler"]


@dataclass(frozen=True)
class ForwardEuler(TimeScheme):
    """`v' = v + dt ((i_ext - I(v)) / c + G v)`; branchpoint voltages from their balance."""

    name = "fwd_euler"
    order = 1

    def advance(self, structure, v, current, slope, i_ext, cm, axial, dt, linear_solver, prepared):
        n = structure.n_comp
        n_bp = structure.n_nodes - n
        offdiag = tree_offdiag_matvec(
            structure.tree,
            -axial["child_row"],
            -axial["parent_row"],
            jnp.concatenate([v, jnp.zeros(n_bp, v.dtype)]),
        )
        v_bp = -offdiag[n:] / axial["diag"][n:] if n_bp else jnp.zeros(0, v.dtype)
        v_nodes = jnp.concatenate([v, v_bp])
        flux = (
            -tree_offdiag_matvec(
                structure.tree, -axial["child_row"], -axial["parent_row"], v_nodes
            )[:n]
            - axial["diag"][:n] * v
        )
        return v + dt * ((i_ext - current) / cm + flux)
