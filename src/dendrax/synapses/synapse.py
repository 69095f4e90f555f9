"""The `Synapse` base class for point-process synapses on network edges.

A synapse declares its parameters (`synapse_params`) and states (`synapse_states`) as dicts
of name -> default value; they live in the network's edge table, one row per synapse.
Conductances are in µS, voltages in mV, time in ms, and the returned current in nA
(outward positive: a positive current hyperpolarizes the postsynaptic compartment).

Two call conventions are accepted, detected from the signature of `update_states`:

* Jaxley 0.13/0.14 ("array"), called once with arrays over all synapses of the type::

      update_states(self, states, delta_t, pre_voltage, post_voltage, params) -> dict
      compute_current(self, states, pre_voltage, post_voltage, params) -> nA

* Jaxley 1.0 ("scalar"), called per synapse (dendrax vmaps them); `pre_states`,
  `post_states`, `pre_params`, `post_params` are the node states/parameters of the pre- and
  postsynaptic compartments (dicts of scalars)::

      update_states(self, synapse_states, synapse_params, pre_voltage, post_voltage,
                    pre_states, post_states, pre_params, post_params, delta_t) -> dict
      compute_current(<same arguments>) -> nA

  Jaxley 1.0 synapses may also declare `node_params` / `node_states` (e.g. a reversal
  potential stored on the presynaptic compartment); they are inserted into the node table.
"""

from __future__ import annotations

import inspect
from typing import Any

__all__ = [
    "Synapse",
    "synapse_call_convention",
    "uses_presynaptic_drive",
    "shares_presynaptic_drive",
]


def uses_presynaptic_drive(update_states):
    """Mark an array-convention `update_states` written as
    `update_from_drive(states, presynaptic_drive(pre_voltage, params, delta_t), delta_t)`.

    The simulator may then compute the drive once per presynaptic compartment instead of
    once per synapse (see `Synapse.presynaptic_drive`). The function is returned unchanged.
    """
    update_states.uses_presynaptic_drive = True
    return update_states


def shares_presynaptic_drive(synapse: Any) -> bool:
    """Whether `synapse`'s own `update_states` is marked with `uses_presynaptic_drive`.

    A subclass that overrides `update_states` without the mark is updated per synapse.
    """
    return bool(getattr(type(synapse).update_states, "uses_presynaptic_drive", False))


def synapse_call_convention(synapse: Any) -> str:
    """Return "array" (Jaxley 0.13/0.14) or "scalar" (Jaxley 1.0) for a synapse.

    A class attribute `call_convention` overrides the detection; otherwise an
    `update_states` taking 9 arguments (besides `self`) is the Jaxley 1.0 form.
    """
    explicit = getattr(type(synapse), "call_convention", None)
    if isinstance(explicit, str):
        if explicit not in ("array", "scalar"):
            raise ValueError(
                f"{type(synapse).__name__}.call_convention must be 'array' or 'scalar', "
                f"got {explicit!r}."
            )
        return explicit
    names = list(inspect.signature(synapse.update_states).parameters)
    if len(names) >= 9:
        return "scalar"
    if len(names) == 5:
        return "array"
    raise TypeError(
        f"{type(synapse).__name__}.update_states takes {len(names)} arguments; expected 5 "
        "(states, delta_t, pre_voltage, post_voltage, params) or 9 (Jaxley 1.0 form)."
    )


class Synapse:
    """Base class of synapses (one instance describes one synapse type).

    Subclasses set `synapse_params` and `synapse_states` (prefixed with the synapse name by
    convention, e.g. `IonotropicSynapse_gS`) and implement `update_states` and
    `compute_current` in one of the two call conventions.
    """

    synapse_params: dict[str, float] | None = None
    synapse_states: dict[str, float] | None = None
    #: Jaxley 1.0: parameters / states stored per compartment (node table).
    node_params: dict[str, float] | None = None
    node_states: dict[str, float] | None = None
    #: Valid ranges of the parameters and states, as `Channel.value_ranges`.
    value_ranges: dict | None = None

    def __init__(self, name: str | None = None):
        self._name = name if name is not None else type(self).__name__
        if self.synapse_params is None:
            self.synapse_params = {}
        if self.synapse_states is None:
            self.synapse_states = {}
        if self.node_params is None:
            self.node_params = {}
        if self.node_states is None:
            self.node_states = {}

    @property
    def name(self) -> str:
        """The synapse type's name: prefix of its parameters, `net.<name>` view, `i_<name>`."""
        return self._name

    def change_name(self, new_name: str) -> Synapse:
        """Rename the synapse type and every parameter/state prefixed with the old name."""
        if not isinstance(new_name, str) or not new_name.isidentifier():
            raise ValueError(f"Synapse names must be Python identifiers, got {new_name!r}.")
        old = f"{self._name}_"

        def rename(d):
            return {
                (new_name + "_" + k[len(old) :] if k.startswith(old) else k): v
                for k, v in d.items()
            }

        self.synapse_params = rename(self.synapse_params)
        self.synapse_states = rename(self.synapse_states)
        self.node_params = rename(self.node_params)
        self.node_states = rename(self.node_states)
        self._name = new_name
        return self

    #: Names (without the `<name>_` prefix) of the parameters `presynaptic_drive` reads.
    drive_params: tuple[str, ...] = ()

    def presynaptic_drive(self, pre_voltage, params, delta_t) -> dict:
        """Optional: the part of the state update set by the presynaptic side alone.

        For synapses whose update depends on their own states only through a final
        combination (e.g. `s_inf` and the decay factor of an exponential-Euler step), this
        returns those terms as a dict of arrays shaped like `pre_voltage`, computed from
        `pre_voltage` (mV) and the `drive_params` entries of `params` only. Together with
        `update_from_drive` and an `update_states` marked `@uses_presynaptic_drive`, it lets
        the simulator evaluate the drive once per presynaptic compartment when all synapses
        from that compartment have equal `drive_params` (in a fully connected layer: once
        per presynaptic cell instead of once per synapse).
        """
        raise NotImplementedError(f"{type(self).__name__} has no presynaptic_drive.")

    def update_from_drive(self, states, drive, delta_t) -> dict:
        """New synapse states from the old ones and `presynaptic_drive`'s terms."""
        raise NotImplementedError(f"{type(self).__name__} has no update_from_drive.")

    def update_states(self, states, delta_t, pre_voltage, post_voltage, params):
        raise NotImplementedError(f"{type(self).__name__} must implement update_states.")

    def compute_current(self, states, pre_voltage, post_voltage, params):
        raise NotImplementedError(f"{type(self).__name__} must implement compute_current.")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self._name!r})"
