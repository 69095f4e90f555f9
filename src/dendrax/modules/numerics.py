"""Module methods for the numerics: ion diffusion, `init_params`, exp-Euler propagators.

* `diffuse(state)` / `delete_diffusion(state)`: intracellular Fickian diffusion of an ion
  concentration state (e.g. `CaCon_i`, mM) across the whole module, with node parameter
  `axial_diffusion_<state>` (diffusion coefficient, µm²/ms, default 1.0, must be > 0).
  The ion is solved with the same implicit scheme and linear solver as the voltage.
* `init_params()`: writes the results of the channels' `init_params` into the node table.
* `build_exp_euler_transition_matrix(delta_t)` / `customize_solver_exp_euler(...)`: the
  dense propagators of `solver="exp_euler"`, computed once and reused across calls.
"""

from __future__ import annotations

import numpy as np

from dendrax.channels.channel import call_convention
from dendrax.errors import ModelError
from dendrax.modules.export import model_tables, module_structure
from dendrax.simulator.run import exp_euler_transitions, initial_values
from dendrax.solvers.exponential_euler import exp_euler_transition

__all__ = ["NumericsMixin"]

_GEOMETRY_FOR_INIT = ("radius", "length", "axial_resistivity", "capacitance", "area", "volume")


class NumericsMixin:
    """`diffuse`, `delete_diffusion`, `init_params` and the exp-Euler helpers."""

    # ------------------------------------------------------------------ diffusion
    def _require_whole_module(self, what: str):
        if self is not self.base:
            raise ModelError(
                f"{what} acts on the whole module (all cells); call it on the module, not on "
                "a view (e.g. `cell.diffuse('CaCon_i')`)."
            )

    @property
    def diffusion_states(self) -> list:
        """Names of the states that diffuse intracellularly."""
        return list(self.base.__dict__.get("_diffused_states", []))

    def diffuse(self, state: str) -> None:
        """Let the concentration `state` (e.g. `"CaCon_i"`) diffuse within every cell.

        Adds node parameter `axial_diffusion_<state>` (µm²/ms, default 1.0; must be > 0).
        Coupling between neighbouring compartments is `D / load / volume` (1/ms), with the
        same half-compartment resistive loads as the cable; cell ends are sealed (no flux).

        Compartments where no mechanism declares `state` (e.g. calcium channels only in one
        branch) get the mean of its current values, as in Jaxley, so that the ion can
        diffuse into them instead of turning the whole cell's solution into NaN.
        """
        self._require_whole_module("diffuse()")
        base = self.base
        if not isinstance(state, str) or state not in base._nodes or state == "v":
            states = sorted({s for c in base._channels for s in c.channel_states})
            raise KeyError(
                f"Cannot diffuse {state!r}: it is not a state of an inserted mechanism. "
                f"Available states: {states}."
            )
        diffused = base.__dict__.setdefault("_diffused_states", [])
        if state not in diffused:
            diffused.append(state)
        col = base._nodes[state]
        missing = np.isnan(col)
        if missing.any():
            col[missing] = np.mean(col[~missing])
        key = f"axial_diffusion_{state}"
        if key not in base._nodes:
            base._nodes[key] = np.ones(base._nodes[state].shape[0])
        base._touch(layout=True)

    def delete_diffusion(self, state: str) -> None:
        """Stop the diffusion of `state` and drop its `axial_diffusion_<state>` parameter."""
        self._require_whole_module("delete_diffusion()")
        base = self.base
        diffused = base.__dict__.setdefault("_diffused_states", [])
        if state not in diffused:
            raise KeyError(f"{state!r} does not diffuse. Diffusing states: {diffused}.")
        diffused.remove(state)
        base._nodes.pop(f"axial_diffusion_{state}", None)
        base._trainables = [t for t in base._trainables if t["key"] != f"axial_diffusion_{state}"]
        base._touch(layout=True)

    # ------------------------------------------------------------------ init_params
    def init_params(self, delta_t: float = 0.025) -> None:
        """Set parameters derived by the channels' `init_params` (Jaxley 1.0), in view.

        Every inserted channel with an `init_params(states, params, voltage, delta_t)`
        method (Jaxley 1.0 argument order; `(states, v, params, delta_t)` for channels of the
        0.13 convention) is evaluated on its compartments in view; the returned dict (e.g.
        `{"Na_tadj": ...}`) is written into the node table.
        """
        import jax
        import jax.numpy as jnp

        base = self.base
        rows_in_view = self._inds
        nodes = base._nodes
        for channel in base._channels:
            fn = getattr(channel, "init_params", None)
            if fn is None:
                continue
            rows = rows_in_view[nodes[channel.name][rows_in_view]]
            if rows.size == 0:
                continue
            states = {k: jnp.asarray(nodes[k][rows]) for k in channel.channel_states}
            params = {k: jnp.asarray(nodes[k][rows]) for k in channel.channel_params}
            for k in _GEOMETRY_FOR_INIT:
                params[k] = jnp.asarray(nodes[k][rows])
            v = jnp.asarray(nodes["v"][rows])
            if call_convention(channel) == "scalar":
                new = jax.vmap(fn, in_axes=(0, 0, 0, None))(states, params, v, delta_t)
            else:
                new = fn(states, v, params, delta_t)
            for k, value in (new or {}).items():
                if k not in nodes or k in ("v",):
                    raise KeyError(
                        f"{type(channel).__name__}.init_params returned {k!r}, which is not a "
                        "parameter of the module. Its parameters: "
                        f"{sorted(channel.channel_params)}."
                    )
                nodes[k][rows] = np.broadcast_to(np.asarray(value, dtype=float), rows.shape)
        self._touch()

    # ------------------------------------------------------------------ exp_euler
    def build_exp_euler_transition_matrix(self, delta_t: float, axial_conductances=None):
        """Propagators `expm(G dt)` of `solver="exp_euler"`, shape (1 + n_ions, n_comp, n_comp).

        Index 0 is the voltage coupling, then one per diffused ion (`diffusion_states`),
        from the module's current parameters (tables, without trainables). Pass
        `axial_conductances` (a dict like `all_params["axial"]` from `init_fn`, or a list
        with one per propagator) to use other coefficients.
        """
        import jax.numpy as jnp

        tables = model_tables(self)
        structure = module_structure(self, tables)
        if axial_conductances is not None:
            coeffs = axial_conductances
            coeffs = [coeffs] if isinstance(coeffs, dict) else list(coeffs)
            return jnp.stack([exp_euler_transition(structure, c, delta_t) for c in coeffs])
        _, all_params = initial_values(tables, structure)
        return exp_euler_transitions(structure, all_params, delta_t)

    def customize_solver_exp_euler(self, exp_euler_transition=None) -> None:
        """Reuse `exp_euler_transition` (from `build_exp_euler_transition_matrix`) in
        `integrate(..., solver="exp_euler")` instead of computing it per call; None clears it.
        """
        import jax.numpy as jnp

        base = self.base
        self._touch()
        if exp_euler_transition is None:
            base.__dict__.pop("_exp_euler_transition", None)
            return
        value = jnp.asarray(exp_euler_transition)
        if value.ndim == 2:
            value = value[None]
        if value.ndim != 3 or value.shape[1] != value.shape[2]:
            raise ValueError(
                "exp_euler_transition must have shape (1 + n_ions, n_comp, n_comp); got "
                f"{tuple(value.shape)}."
            )
        base.__dict__["_exp_euler_transition"] = value

    # ------------------------------------------------------------------ voltage solver
    def _init_solver_jaxley_dhs_solve(self, allowed_nodes_per_level: int = 32) -> None:
        """Jaxley's hook that lays out `voltage_solver="jaxley.dhs.gpu"` for this module.

        In Jaxley it groups the compartments of each tree level into blocks of at most
        `allowed_nodes_per_level` for the GPU kernel; the result of the solve does not
        depend on it. dendrax's level-parallel solver ("jaxley.dhs.gpu") schedules whole
        levels at once and has no such block width, so this only checks the argument
        (Jaxley user code and tests call it before `integrate`).

        Args:
            allowed_nodes_per_level: positive int, compartments per block of a tree level.
        """
        n = allowed_nodes_per_level
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"allowed_nodes_per_level must be a positive integer; got {n!r}.")
