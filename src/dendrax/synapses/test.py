"""`dendrax.synapses.test`: the module path of `TestSynapse` in Jaxley 0.14
(`jaxley.synapses.test`); the class lives in `dendrax.synapses.test_synapse`."""

from dendrax.synapses.test_synapse import TestSynapse

__all__ = ["TestSynapse"]
