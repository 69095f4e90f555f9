"""A single compartment."""

from __future__ import annotations

from dendrax.modules.base import Module
from dendrax.tables import single_compartment_nodes

__all__ = ["Compartment"]


class Compartment(Module):
    """One isopotential compartment: a cylinder of length 10 µm and radius 1 µm by default,
    axial resistivity 5000 Ω·cm, membrane capacitance 1 µF/cm², resting at -70 mV."""

    _level = "comp"

    def __init__(self):
        self._init_base(single_compartment_nodes(), [-1], [1], [0])
