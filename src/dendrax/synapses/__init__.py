"""Synapses: the `Synapse` base class and built-in synapse types.

Jaxley 0.13/0.14 call convention: `IonotropicSynapse`, `TanhRateSynapse`,
`TanhConductanceSynapse`, `TestSynapse`. Jaxley 1.0 call convention: `CurrentSynapse`,
`ConductanceSynapse`, `DynamicSynapse`, `AlphaSynapse`, `SpikeSynapse`.
"""

from dendrax.synapses.alpha import AlphaSynapse
from dendrax.synapses.conductance import ConductanceSynapse
from dendrax.synapses.current import CurrentSynapse
from dendrax.synapses.dynamic import DynamicSynapse
from dendrax.synapses.ionotropic import IonotropicSynapse
from dendrax.synapses.spike import SpikeSynapse
from dendrax.synapses.synapse import Synapse
from dendrax.synapses.tanh_conductance import TanhConductanceSynapse
from dendrax.synapses.tanh_rate import TanhRateSynapse
from dendrax.synapses.test_synapse import TestSynapse

__all__ = [
    "Synapse",
    "IonotropicSynapse",
    "TanhRateSynapse",
    "TanhConductanceSynapse",
    "TestSynapse",
    "CurrentSynapse",
    "ConductanceSynapse",
    "DynamicSynapse",
    "AlphaSynapse",
    "SpikeSynapse",
]
