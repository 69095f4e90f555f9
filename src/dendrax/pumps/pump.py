"""The `Pump` base class: mechanisms that change an ion concentration.

In dendrax a pump is a `Channel` inserted with `module.insert(...)`. It carries no membrane
current (`compute_current` returns 0); instead `update_states` advances the concentration
state named by `ion_name` (e.g. `CaCon_i`, mM) from the flux returned by `ion_flux`.

The core hands every membrane current name (e.g. `i_Ca`: the summed current, mA/cm²,
outward positive, of all channels whose `current_name` is `i_Ca`, from the previous step)
to `update_states` inside `states`, so a pump reads `states["i_Ca"]`.

Jaxley 0.13 pumps implement `compute_current(states, modified_state, params)` returning
`-d[ion]/dt`; a subclass written that way is detected (by the argument name
`modified_state`) and its method is used as `ion_flux`, so such classes work unchanged.
"""

from __future__ import annotations

import inspect

import jax
import jax.numpy as jnp

from dendrax.channels.channel import Channel
from dendrax.checks.ranges import NON_NEGATIVE

__all__ = ["Pump", "FARADAY"]

#: Faraday's constant, C/mol.
FARADAY = 96485.3329


class Pump(Channel):
    """Base class of ion pumps and concentration mechanisms.

    Subclasses set `channel_params`, `channel_states` (including the ion state and the
    currents they read, e.g. `i_Ca`), `ion_name` and `current_name`, and implement
    `ion_flux(states, modified_state, params)` = `-d[ion]/dt` in mM/ms.

    `update_states` integrates `d[ion]/dt = -ion_flux` with one backward-Euler step of the
    flux linearized in the concentration (exact for fluxes affine in it):
    `[c] <- ([c] + dt (lin [c] - flux([c]))) / (1 + dt lin)`, `lin = d flux / d[c]`.
    """

    ion_name: str | None = None
    #: Concentrations (mM) are >= 0 (see `Channel.value_ranges`).
    value_ranges = {
        "CaCon_i": NON_NEGATIVE.with_unit("mM"),
        "CaCon_e": NON_NEGATIVE.with_unit("mM"),
    }

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("compute_current")
        if own is not None and "modified_state" in inspect.signature(own).parameters:
            # A Jaxley-style pump: its compute_current is the ion flux.
            cls.ion_flux = own
            cls.compute_current = Pump.compute_current
            own_update = cls.__dict__.get("update_states")
            if own_update is not None:

                def update_states(self, states, dt, v, params, _orig=own_update):
                    out = dict(_orig(self, states, dt, v, params) or {})
                    return {**out, **Pump.update_states(self, {**states, **out}, dt, v, params)}

                cls.update_states = update_states

    def ion_flux(self, states, modified_state, params):
        """`-d[ion]/dt` (mM/ms) given the concentration `modified_state` (mM)."""
        raise NotImplementedError(f"{type(self).__name__} must implement ion_flux.")

    def update_states(self, states, dt, v, params):
        """Advance `states[ion_name]` (mM) by one implicit step of length `dt` (ms)."""
        conc = states[self.ion_name]

        def flux(c):
            return self.ion_flux(states, c, params)

        f0, lin = jax.jvp(flux, (conc,), (jnp.ones_like(conc),))
        new = (conc + dt * (lin * conc - f0)) / (1.0 + dt * lin)
        return {self.ion_name: new}

    def compute_current(self, states, v, params):
        """Pumps carry no membrane current: 0 mA/cm²."""
        return jnp.zeros_like(v)
