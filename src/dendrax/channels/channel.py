"""The `Channel` base class for membrane mechanisms.

A channel declares its parameters (`channel_params`) and states (`channel_states`) as dicts
of name -> default value and implements three pure methods. Two call conventions are
accepted, detected from the method signatures:

* Jaxley 0.13/0.14 ("array" convention), called once with arrays over all compartments
  that carry the channel::

      update_states(self, states, dt, v, params) -> dict
      compute_current(self, states, v, params) -> current density (mA/cm², outward +)
      init_state(self, states, v, params, delta_t) -> dict

* Jaxley 1.0 ("scalar" convention), called per compartment (dendrax vmaps them)::

      update_states(self, states, params, voltage, delta_t) -> dict
      compute_current(self, states, params, voltage, delta_t) -> mA/cm²
      init_state(self, states, params, voltage, delta_t) -> dict
"""

from __future__ import annotations

import inspect
from typing import Any

__all__ = ["Channel", "call_convention", "has_exact_slope"]

_V1_SECOND_ARGS = {"params", "channel_params", "parameters", "p"}


def call_convention(mechanism: Any) -> str:
    """Return "array" (Jaxley 0.13/0.14) or "scalar" (Jaxley 1.0) for a mechanism.

    A class attribute `call_convention` overrides the detection; otherwise the name of the
    second argument of `update_states` decides (`params` means Jaxley 1.0).
    """
    explicit = getattr(type(mechanism), "call_convention", None)
    if isinstance(explicit, str):
        if explicit not in ("array", "scalar"):
            raise ValueError(
                f"{type(mechanism).__name__}.call_convention must be 'array' or 'scalar', "
                f"got {explicit!r}."
            )
        return explicit
    names = list(inspect.signature(mechanism.update_states).parameters)
    if len(names) >= 2 and names[1] in _V1_SECOND_ARGS:
        return "scalar"
    return "array"


class Channel:
    """Base class of ion channels (density mechanisms).

    Subclasses set `channel_params`, `channel_states` and `current_name` in `__init__`
    (after calling `super().__init__(name)`, or before it as Jaxley 0.13 required). Parameter
    and state names are conventionally prefixed with the channel name (`HH_gNa`);
    unprefixed names (`eNa`) are shared between channels that declare them.

    Optional (a dendrax extension, array convention): `current_slope(states, v, params)`,
    dI/dv of `compute_current` in mA/cm²/mV. Where it is defined (in the class that defines
    `compute_current` or below it), the implicit voltage step uses it instead of evaluating
    the current a second time at `v + 1e-3` mV (`has_exact_slope`).
    """

    channel_params: dict[str, float] | None = None
    channel_states: dict[str, float] | None = None
    current_name: str | None = None
    #: Valid ranges of the parameters and states, `{name without the "<name>_" prefix:
    #: dendrax.checks.Range}` (e.g. gates in [0, 1]); undeclared names are checked by the
    #: conventions of `dendrax.checks.ranges` (conductances `g...` >= 0, `tau...` > 0).
    value_ranges: dict | None = None
    #: Non-capacitive mechanisms (Izhikevich, Rate, ...) write `v` themselves.
    #: Kept for compatibility; unused by the solver.
    current_is_in_mA_per_cm2: bool = True

    def __init__(self, name: str | None = None):
        self._name = name if name is not None else type(self).__name__
        if self.channel_params is None:
            self.channel_params = {}
        if self.channel_states is None:
            self.channel_states = {}

    @property
    def name(self) -> str:
        """The channel's name: the prefix of its parameters and its view attribute."""
        return self._name

    def change_name(self, new_name: str) -> Channel:
        """Rename the channel and every parameter/state prefixed with the old name.

        Returns the channel itself, so calls can be chained (`HH().change_name("HH2")`).
        """
        if not isinstance(new_name, str) or not new_name.isidentifier():
            raise ValueError(f"Channel names must be Python identifiers, got {new_name!r}.")
        old_prefix = f"{self._name}_"

        def rename(d):
            return {
                (new_name + "_" + k[len(old_prefix) :] if k.startswith(old_prefix) else k): val
                for k, val in d.items()
            }

        self.channel_params = rename(self.channel_params)
        self.channel_states = rename(self.channel_states)
        if self.current_name is not None and self.current_name.startswith("i_" + self._name):
            self.current_name = "i_" + new_name + self.current_name[len("i_" + self._name) :]
        self._name = new_name
        return self

    def update_states(self, states, dt, v, params):
        raise NotImplementedError(f"{type(self).__name__} must implement update_states.")

    def compute_current(self, states, v, params):
        raise NotImplementedError(f"{type(self).__name__} must implement compute_current.")

    def init_state(self, states, v, params, delta_t):
        """Steady-state values of the states at voltage `v`; default: no change."""
        return {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self._name!r})"


def _owner(cls, name: str):
    """The class of `cls.__mro__` that defines attribute `name` (None if none does)."""
    return next((k for k in cls.__mro__ if name in k.__dict__), None)


def has_exact_slope(mechanism) -> bool:
    """True if the mechanism's `current_slope` belongs to its `compute_current`.

    A channel may define `current_slope(states, v, params)`, dI/dv in mA/cm²/mV, next to
    `compute_current` (a dendrax extension; `HH` and `Leak` do). It is used when defined in
    the class that defines `compute_current` or below it: a subclass that overrides
    `compute_current` without a new `current_slope` falls back to the finite difference.
    """
    cls = type(mechanism)
    slope_owner = _owner(cls, "current_slope")
    current_owner = _owner(cls, "compute_current")
    return slope_owner is not None and issubclass(slope_owner, current_owner)
