"""Registry of dendrax's built-in mechanisms (channels, synapses, pumps) and their standard
models.

Every built-in mechanism class is registered where it is defined::

    @register(StandardModel(param="{name}_gLeak", stimulus=(0.005, 1.0, 3.0)))
    class Leak(Channel): ...

The decorator is not inherited: a user's subclass of a built-in class (`class MyHH(HH)`) is
not registered unless it is decorated or passed to `MECHANISMS.add` itself. The contract
tests (`tests/contract/`) parametrize over `registered()`, so a newly registered mechanism
is checked (finite output, float32, `jit`, `vmap`, `grad`, finite differences) without
editing the tests; `tests/contract` also fails if a public mechanism class is left out.

A `StandardModel` is data only (no builder objects, so this module stays in the core layer);
`tests/contract/standard_models.py` turns it into a module:

* channel or pump: a `Cell` of `nbranches` branches of `ncomp` compartments (branch 0 the
  parent of all others); the mechanisms named in `with_mechanisms` are inserted first, then
  the registered one, then `settings` are applied with `module.set`.
* synapse: a `Network` of two such cells, every cell carrying `with_mechanisms`; the
  synapse connects compartment 0 of cell 0 to the last compartment of cell 1.

A step current of `stimulus = (amplitude nA, delay ms, duration ms)` goes into compartment
0 of branch 0 (of cell 0). `observe` (a state name, default the voltage) is recorded in
the last compartment (of the last cell); the loss is its mean over the `t_max` ms of the
simulation. `param` is made trainable as one value shared by the whole module (a synapse
parameter or state: by all synapses of the type) and is the parameter differentiated.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

__all__ = [
    "KINDS",
    "MECHANISMS",
    "MechanismRegistry",
    "RegisteredMechanism",
    "StandardModel",
    "register",
    "registered",
]

#: Mechanism kinds, in the order the registry lists them.
KINDS = ("channel", "pump", "synapse")


@dataclasses.dataclass(frozen=True)
class StandardModel:
    """A small model that exercises one mechanism (see the module docstring).

    Attributes:
        param: name of the parameter (or state) to differentiate; `{name}` is replaced by
            the mechanism instance's name (e.g. `"{name}_gNa"` -> `"HH_gNa"`).
        with_mechanisms: registered names of mechanisms inserted before this one (in every
            cell), e.g. `("Leak",)` or, for a calcium pump, `("Leak", "CaL")`.
        settings: `(key, value)` pairs applied with `module.set(key, value)` after the
            insertions; `{name}` in a key is replaced as in `param`.
        nbranches: branches per cell (1 = one cable; 2 = a parent and a child branch).
        ncomp: compartments per branch.
        stimulus: step current `(amplitude nA, delay ms, duration ms)`.
        observe: the recorded quantity whose time-mean is the loss (`"v"`, mV, or a state).
        t_max: simulated time, ms.
        delta_t: time step, ms.
        grad_rtol: relative tolerance of the gradient against central finite differences.
        grad_note: why `grad_rtol` is looser than the default (required when it is).
    """

    param: str
    with_mechanisms: tuple[str, ...] = ()
    settings: tuple[tuple[str, float], ...] = ()
    nbranches: int = 1
    ncomp: int = 1
    stimulus: tuple[float, float, float] = (0.005, 1.0, 3.0)
    observe: str = "v"
    t_max: float = 5.0
    delta_t: float = 0.025
    grad_rtol: float = 1e-6
    grad_note: str = ""

    def __post_init__(self):
        if not isinstance(self.param, str) or not self.param:
            raise TypeError(f"StandardModel.param must be a parameter name; got {self.param!r}.")
        if isinstance(self.with_mechanisms, str):
            raise TypeError(
                "StandardModel.with_mechanisms must be a tuple of names; got the string "
                f"{self.with_mechanisms!r} (write ({self.with_mechanisms!r},))."
            )
        for field, value in (("nbranches", self.nbranches), ("ncomp", self.ncomp)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"StandardModel.{field} must be a positive int; got {value!r}.")
        if len(self.stimulus) != 3:
            raise ValueError(
                "StandardModel.stimulus must be (amplitude nA, delay ms, duration ms); got "
                f"{self.stimulus!r}."
            )
        if not (self.t_max > 0 and self.delta_t > 0):
            raise ValueError(
                f"StandardModel needs t_max > 0 and delta_t > 0 ms; got {self.t_max!r}, "
                f"{self.delta_t!r}."
            )
        if self.grad_rtol > StandardModel.grad_rtol and not self.grad_note:
            raise ValueError(
                f"StandardModel(param={self.param!r}) loosens grad_rtol to {self.grad_rtol}; "
                "say why in grad_note."
            )


@dataclasses.dataclass(frozen=True)
class RegisteredMechanism:
    """One registry entry: the class, its kind and its standard model."""

    name: str
    cls: type
    kind: str
    model: StandardModel

    def __repr__(self) -> str:
        return f"RegisteredMechanism({self.name!r}, {self.kind})"


def mechanism_kind(cls: type) -> str:
    """ "synapse", "pump" or "channel" for a mechanism class (by its declared attributes).

    Duck-typed on the attributes the bases declare (`Synapse.synapse_params`,
    `Pump.ion_flux`, `Channel.channel_params`), so this module needs no import of the
    mechanism packages, which themselves import it.

    Raises:
        TypeError: if `cls` is not a class or none of these attributes is present.
    """
    if not isinstance(cls, type):
        raise TypeError(f"register() decorates a mechanism class; got {cls!r}.")
    if hasattr(cls, "synapse_params"):
        return "synapse"
    if hasattr(cls, "ion_flux"):
        return "pump"
    if hasattr(cls, "channel_params"):
        return "channel"
    raise TypeError(
        f"{cls.__name__} is not a Channel, Pump or Synapse subclass (it has none of "
        "channel_params, ion_flux, synapse_params); only mechanisms can be registered."
    )


class MechanismRegistry:
    """Mechanism classes by name, each with its `StandardModel`."""

    def __init__(self):
        self._entries: dict[str, RegisteredMechanism] = {}

    def add(self, cls: type, model: StandardModel, name: str | None = None) -> type:
        """Register `cls` under `name` (default: the class name) and return it.

        Raises:
            TypeError: `cls` is not a mechanism class or `model` not a `StandardModel`.
            ValueError: another class is registered under the same name.
        """
        kind = mechanism_kind(cls)
        if not isinstance(model, StandardModel):
            raise TypeError(
                f"register({cls.__name__}) needs a StandardModel; got {type(model).__name__}."
            )
        name = cls.__name__ if name is None else name
        old = self._entries.get(name)
        # A re-executed module (importlib.reload) registers a new class object with the
        # same qualified name; that replaces the entry instead of clashing with it.
        if old is not None and _qualname(old.cls) != _qualname(cls):
            raise ValueError(
                f"A mechanism named {name!r} is already registered ({_qualname(old.cls)}); "
                f"register {_qualname(cls)} under another name (register(..., name=...))."
            )
        self._entries[name] = RegisteredMechanism(name, cls, kind, model)
        return cls

    def remove(self, name: str) -> None:
        """Unregister `name` (KeyError naming the registered ones if absent)."""
        if name not in self._entries:
            raise KeyError(f"No mechanism {name!r} is registered; registered: {self.names()}.")
        del self._entries[name]

    def get(self, name: str) -> RegisteredMechanism:
        """The entry registered under `name` (KeyError naming the registered ones if absent)."""
        if name not in self._entries:
            raise KeyError(f"No mechanism {name!r} is registered; registered: {self.names()}.")
        return self._entries[name]

    def entries(self, kind: str | None = None) -> tuple[RegisteredMechanism, ...]:
        """Entries of `kind` (all if None), sorted by kind (as `KINDS`), then name."""
        if kind is not None and kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS} or None; got {kind!r}.")
        found = [e for e in self._entries.values() if kind is None or e.kind == kind]
        return tuple(sorted(found, key=lambda e: (KINDS.index(e.kind), e.name)))

    def names(self, kind: str | None = None) -> list[str]:
        """Registered names of `kind` (all if None), in the order of `entries`."""
        return [e.name for e in self.entries(kind)]

    def is_registered(self, cls: type) -> bool:
        """Whether the class `cls` itself (not a base class of it) is registered."""
        return any(e.cls is cls for e in self._entries.values())

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[RegisteredMechanism]:
        return iter(self.entries())

    def __len__(self) -> int:
        return len(self._entries)


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


#: The registry of dendrax's built-in mechanisms.
MECHANISMS = MechanismRegistry()


def register(model: StandardModel, name: str | None = None) -> Callable[[type], type]:
    """Class decorator: add the class to `MECHANISMS` with its standard `model`."""
    if isinstance(model, type):
        raise TypeError(
            "register takes a StandardModel and returns the decorator: write "
            "@register(StandardModel(param=...)), not @register."
        )

    def decorate(cls: type) -> type:
        return MECHANISMS.add(cls, model, name)

    return decorate


def registered(kind: str | None = None) -> tuple[RegisteredMechanism, ...]:
    """The registered mechanisms of `kind` ("channel", "pump", "synapse"; None: all)."""
    return MECHANISMS.entries(kind)
