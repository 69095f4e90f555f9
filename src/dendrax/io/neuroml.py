"""Import NeuroML2 ion channels with the standard HH rate forms: `read_neuroml(path)`.

Reads `<ionChannel>` / `<ionChannelHH>` / `<ionChannelPassive>` elements of a NeuroML2 file
with the standard library's XML parser (no LEMS, no libNeuroML needed) and returns a
`Channel` subclass (Jaxley 0.13 array convention, `jax.numpy`).

Supported: gates `gateHHrates` (tau = 1/((α+β) q10), inf = α/(α+β)), `gateHHtauInf`,
`gateHHratesInf`, `gateHHratesTau`, `gateHHratesTauInf`; rate forms `HHExpRate`
(`r e^{(v-mid)/scale}`), `HHSigmoidRate` (`r / (1 + e^{-(v-mid)/scale})`), `HHExpLinearRate`
(`r x / (1 - e^{-x})`, `x = (v-mid)/scale`) and the same as `...Variable` for steady states,
`fixedTimeCourse`; `q10Fixed`, `q10ExpTemp` (`q10Factor^((celsius - experimentalTemp)/10)`).
Gates advance by exponential Euler (exact for fixed v, as NEURON's cnexp) and start at their
steady state with `init_states()`. Custom LEMS ComponentTypes and other gate kinds raise
`NotImplementedError` naming the channel, gate and type.

Naming: conductance `<id>_gbar` (S/cm², default 1e-3: NeuroML puts densities in the cell,
not the channel), gates `<id>_<gate>`; reversal `ena`/`ek`/`eca` (shared, NEURON's defaults)
for species na/k/ca, else `<id>_erev` (mV, default 0). Current (mA/cm², outward +) named
`i_Na`/`i_K`/`i_Ca` for those species, else `i_<id>`. Units: mV, ms.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jax.numpy as jnp

from dendrax.channels.channel import Channel
from dendrax.io.nmodl import ION_DEFAULTS

__all__ = ["read_neuroml", "channel_ids"]

_UNITS = {
    "": 1.0,
    "mV": 1.0,
    "V": 1000.0,
    "ms": 1.0,
    "s": 1000.0,
    "per_ms": 1.0,
    "per_s": 1e-3,
    "degC": 1.0,
}
_SPECIES = {"na": ("ena", "i_Na"), "k": ("ek", "i_K"), "ca": ("eca", "i_Ca")}
_CHANNEL_TAGS = ("ionChannel", "ionChannelHH", "ionChannelPassive")
_GATE_KINDS = (
    "gateHHrates",
    "gateHHtauInf",
    "gateHHratesInf",
    "gateHHratesTau",
    "gateHHratesTauInf",
)


def _tag(el) -> str:
    return el.tag.rsplit("}", 1)[-1]


def _quantity(text: str, where: str) -> float:
    """A NeuroML quantity ("-38mV", "1.092per_ms", "23 degC", "300K") in mV/ms/°C units."""
    m = re.fullmatch(r"\s*([-+0-9.eE]+)\s*([A-Za-z_]*)\s*", text or "")
    if m is None:
        raise ValueError(f"{where}: cannot read the quantity {text!r}.")
    value, unit = float(m.group(1)), m.group(2)
    if unit == "K":
        return value - 273.15
    if unit not in _UNITS:
        raise NotImplementedError(f"{where}: unit {unit!r} is not supported.")
    return value * _UNITS[unit]


def _xexp(x):
    """x / (1 - e^{-x}), finite at x = 0 (value 1)."""
    small = jnp.abs(x) < 1e-6
    safe = jnp.where(small, 1.0, x)
    return jnp.where(small, 1.0 + x / 2.0, safe / -jnp.expm1(-safe))


def _standard_form(el, where: str):
    """`f(v)` of an HH rate/variable element, or None if it is not a standard form."""
    kind = el.get("type", "")
    if kind == "fixedTimeCourse":
        tau = _quantity(el.get("tau"), where)
        return lambda v: jnp.full_like(v, tau)
    forms = {
        "HHExp": lambda x: jnp.exp(x),
        "HHSigmoid": lambda x: 1.0 / (1.0 + jnp.exp(-x)),
        "HHExpLinear": _xexp,
    }
    base = re.sub(r"(Rate|Variable)$", "", kind)
    if base not in forms or base == kind:
        return None
    rate = _quantity(el.get("rate"), where)
    scale = _quantity(el.get("scale"), where)
    mid = _quantity(el.get("midpoint"), where)
    form = forms[base]
    return lambda v: rate * form((v - mid) / scale)


def _q10(gate, celsius: float, where: str) -> float:
    q = next((c for c in gate if _tag(c) == "q10Settings"), None)
    if q is None:
        return 1.0
    if q.get("type") == "q10Fixed":
        return float(q.get("fixedQ10"))
    if q.get("type") == "q10ExpTemp":
        exp_temp = _quantity(q.get("experimentalTemp"), where)
        return float(q.get("q10Factor")) ** ((celsius - exp_temp) / 10.0)
    raise NotImplementedError(f"{where}: q10Settings type {q.get('type')!r} is not supported.")


def _gate(gate, channel_id: str, celsius: float, filename: str):
    """`(name, power, inf_tau(v) -> (inf, tau ms))` of one gate element."""
    name = gate.get("id")
    where = f"{filename}: channel {channel_id!r}, gate {name!r}"
    kind = gate.get("type") or _tag(gate)
    if kind not in _GATE_KINDS:
        raise NotImplementedError(
            f"{where}: gate type {kind!r} is not supported (supported: {', '.join(_GATE_KINDS)})."
        )
    parts = {}
    for child in gate:
        role = _tag(child)
        if role in ("forwardRate", "reverseRate", "timeCourse", "steadyState"):
            fn = _standard_form(child, where)
            if fn is None:
                raise NotImplementedError(
                    f"{where}: {role} uses {child.get('type')!r}, a custom LEMS ComponentType "
                    "or non-standard form; only HHExp/HHSigmoid/HHExpLinear rates and "
                    "variables and fixedTimeCourse are supported."
                )
            parts[role] = fn
    q10 = _q10(gate, celsius, where)
    need = {
        "gateHHrates": ("forwardRate", "reverseRate"),
        "gateHHtauInf": ("timeCourse", "steadyState"),
        "gateHHratesInf": ("forwardRate", "reverseRate", "steadyState"),
        "gateHHratesTau": ("forwardRate", "reverseRate", "timeCourse"),
        "gateHHratesTauInf": ("timeCourse", "steadyState"),
    }[kind]
    missing = [r for r in need if r not in parts]
    if missing:
        raise ValueError(f"{where}: {kind} needs {missing}.")

    def inf_tau(v):
        if "forwardRate" in parts:
            alpha, beta = parts["forwardRate"](v), parts["reverseRate"](v)
            inf, tau = alpha / (alpha + beta), 1.0 / (alpha + beta)
        inf = parts["steadyState"](v) if "steadyState" in parts else inf
        tau = parts["timeCourse"](v) if "timeCourse" in parts else tau
        return inf, tau / q10

    return name, int(float(gate.get("instances", "1"))), inf_tau


def channel_ids(path) -> list[str]:
    """Ids of the ion channels defined in a NeuroML2 file."""
    root = ET.parse(path).getroot()
    return [el.get("id") for el in root.iter() if _tag(el) in _CHANNEL_TAGS]


def read_neuroml(path, channel_id: str | None = None, celsius: float = 6.3) -> type:
    """Build a `Channel` subclass from an ion channel of a NeuroML2 file.

    Args:
        path: the `.nml` file.
        channel_id: which `<ionChannel>` to read when the file has several.
        celsius: temperature (°C) for `q10ExpTemp` settings.

    Returns:
        The class; instantiate it (optionally with a new name) and `insert` it.
    """
    path = Path(path)
    filename = path.name
    root = ET.parse(path).getroot()
    channels = [el for el in root.iter() if _tag(el) in _CHANNEL_TAGS]
    if channel_id is not None:
        channels = [el for el in channels if el.get("id") == channel_id]
    if len(channels) != 1:
        which = "" if channel_id is None else f" {channel_id!r}"
        raise ValueError(
            f"{filename}: expected one ion channel{which}; found ids {channel_ids(path)}. "
            "Pass channel_id=..."
        )
    el = channels[0]
    cid = el.get("id")
    gates = [
        _gate(g, cid, celsius, filename)
        for g in el
        if _tag(g) == "gate" or _tag(g).startswith("gateHH")
    ]
    species = el.get("species")
    erev_key, current = _SPECIES.get(species, (None, f"i_{cid}"))
    return _make_class(cid, gates, erev_key, current)


def _make_class(cid: str, gates, erev_key, current_name):
    def __init__(self, name=None):
        Channel.__init__(self, name or cid)
        p = self._name
        erev = {erev_key: ION_DEFAULTS[erev_key]} if erev_key else {f"{p}_erev": 0.0}
        self.channel_params = {f"{p}_gbar": 1e-3, **erev}
        self.channel_states = {f"{p}_{g}": 0.2 for g, _, _ in gates}
        self.current_name = current_name if erev_key else f"i_{p}"

    def _erev(self, params):
        return params[erev_key] if erev_key else params[f"{self._name}_erev"]

    def update_states(self, states, dt, v, params):
        out = {}
        for g, _, inf_tau in gates:
            inf, tau = inf_tau(v)
            x = states[f"{self._name}_{g}"]
            out[f"{self._name}_{g}"] = inf + (x - inf) * jnp.exp(-dt / tau)
        return out

    def compute_current(self, states, v, params):
        g = params[f"{self._name}_gbar"]
        for gate, power, _ in gates:
            g = g * states[f"{self._name}_{gate}"] ** power
        return g * (v - _erev(self, params))

    def init_state(self, states, v, params, delta_t):
        return {f"{self._name}_{g}": inf_tau(v)[0] for g, _, inf_tau in gates}

    doc = (
        f"NeuroML2 channel {cid!r}: gates {[(g, p) for g, p, _ in gates]}, conductance "
        f"`{cid}_gbar` (S/cm²), current {current_name!r} (mA/cm²)."
    )
    return type(
        cid,
        (Channel,),
        {
            "__init__": __init__,
            "update_states": update_states,
            "compute_current": compute_current,
            "init_state": init_state,
            "__doc__": doc,
        },
    )
