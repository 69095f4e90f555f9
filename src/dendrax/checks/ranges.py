"""Valid ranges of physical quantities, per column of the node and edge tables.

Every value is checked to be finite. On top of that:

* the geometry and the membrane (`radius`, `length`, `capacitance`, `axial_resistivity`
  and the derived `area`, `volume`, `resistive_load_in/out`) must be > 0;
* the membrane voltage `v` must lie in (-1000, 1000) mV (no physiological voltage comes
  near; larger values are a unit mix-up or a blown-up state, and raise an error);
* a mechanism (channel, pump or synapse) declares the ranges of its parameters and states
  in a class attribute `value_ranges`, `{name: Range}`, keyed by the name without the
  mechanism's prefix (`"m"` for `HH_m`, so a renamed channel keeps its ranges) or by the
  full name for shared ones (`"eCa"`);
* undeclared names follow two naming conventions: conductances of channels and pumps (`g`
  followed by an upper-case letter, a digit, `_`, `bar` or nothing: `gNa`, `g_L`, `gbar`)
  are >= 0, time constants (`tau...`) are > 0. Synaptic `gS` is a signed weight in
  current-based synapses, so conductance-based synapses declare theirs >= 0. Gating
  states are not recognizable by name (`Izhikevich_u` is no gate), so mechanisms declare
  them (`GATE`, in [0, 1]).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Range",
    "FINITE",
    "POSITIVE",
    "NON_NEGATIVE",
    "GATE",
    "VOLTAGE",
    "TABLE_RANGES",
    "mechanism_ranges",
    "ranges_of",
    "range_of",
]


@dataclass(frozen=True)
class Range:
    """The valid values of one quantity: finite, and between `low` and `high`.

    `open_low` / `open_high` make the bound strict (`> low` rather than `>= low`).
    `unit` is only used in messages.
    """

    low: float = -math.inf
    high: float = math.inf
    open_low: bool = False
    open_high: bool = False
    unit: str = ""

    def valid(self, x, xp=np):
        """Boolean mask, True where `x` (an array of `xp`, numpy or jax.numpy) is valid."""
        ok = xp.isfinite(x)
        if self.low > -math.inf:
            ok = ok & ((x > self.low) if self.open_low else (x >= self.low))
        if self.high < math.inf:
            ok = ok & ((x < self.high) if self.open_high else (x <= self.high))
        return ok

    def bounds(self) -> str:
        """The bounds alone, e.g. "> 0", ">= 0", "in [0, 1]"; "" when there are none."""
        if self.low == -math.inf and self.high == math.inf:
            return ""
        if self.high == math.inf:
            return f"{'>' if self.open_low else '>='} {self.low:g}"
        if self.low == -math.inf:
            return f"{'<' if self.open_high else '<='} {self.high:g}"
        left, right = "(" if self.open_low else "[", ")" if self.open_high else "]"
        return f"in {left}{self.low:g}, {self.high:g}{right}"

    def with_unit(self, unit: str) -> Range:
        return Range(self.low, self.high, self.open_low, self.open_high, unit)


FINITE = Range()
POSITIVE = Range(0.0, open_low=True)
NON_NEGATIVE = Range(0.0)
#: Gating variables (open fractions).
GATE = Range(0.0, 1.0)
#: |v| < 1000 mV.
VOLTAGE = Range(-1000.0, 1000.0, open_low=True, open_high=True, unit="mV")

#: Columns every module has (synaptic delays are checked by `set` itself).
TABLE_RANGES = {
    "radius": POSITIVE.with_unit("µm"),
    "length": POSITIVE.with_unit("µm"),
    "capacitance": POSITIVE.with_unit("µF/cm²"),
    "axial_resistivity": POSITIVE.with_unit("Ω·cm"),
    "area": POSITIVE.with_unit("µm²"),
    "volume": POSITIVE.with_unit("µm³"),
    "resistive_load_in": POSITIVE.with_unit("1/µm"),
    "resistive_load_out": POSITIVE.with_unit("1/µm"),
    "v": VOLTAGE,
}

_CONDUCTANCE = re.compile(r"g(?:[A-Z0-9_]|bar|$)")


def _by_convention(suffix: str, is_synapse: bool) -> Range:
    # Conductances of channels only: a synapse's `gS` is a signed weight in current-based
    # synapses (negative: excitatory `SpikeSynapse`), so synapses declare theirs. No unit:
    # S/cm² for channels, model units for point neurons (AdEx).
    if _CONDUCTANCE.match(suffix) and not is_synapse:
        return NON_NEGATIVE
    if suffix.startswith("tau"):
        return POSITIVE.with_unit("ms")
    return FINITE


def mechanism_ranges(mechanism) -> dict[str, Range]:
    """`{column name: Range}` for the parameters and states of a channel, pump or synapse."""
    is_synapse = hasattr(mechanism, "synapse_params")
    names = (
        [*mechanism.synapse_params, *mechanism.synapse_states]
        if is_synapse
        else [*(mechanism.channel_params or {}), *(mechanism.channel_states or {})]
    )
    declared = getattr(type(mechanism), "value_ranges", None) or {}
    prefix = f"{mechanism.name}_"
    out = {}
    for name in names:
        suffix = name[len(prefix) :] if name.startswith(prefix) else name
        rng = declared.get(suffix, declared.get(name))
        if rng is None:
            rng = _by_convention(suffix, is_synapse)
        out[name] = rng
    return out


def ranges_of(base) -> dict[str, Range]:
    """`{column name: Range}` for every node and edge column of a base module.

    Names declared by several mechanisms take the first declaration; the table columns
    (`TABLE_RANGES`) take precedence over mechanisms.
    """
    out = {}
    base = base.base
    for mechanism in [*base.channels, *base.synapses]:
        for name, rng in mechanism_ranges(mechanism).items():
            out.setdefault(name, rng)
    out.update(TABLE_RANGES)
    return out


def range_of(base, key: str) -> Range:
    """The valid range of column `key` of `base` (finite only when nothing is known)."""
    if key in TABLE_RANGES:
        return TABLE_RANGES[key]
    return ranges_of(base).get(key, FINITE)
