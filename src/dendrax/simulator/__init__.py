"""The core of dendrax: pure simulation on a compiled model (no builder objects).

`model.py` holds the immutable snapshot of a module's tables, `structure.py` compiles its
topology and mechanism groups, `simulator.py` the `Simulator` pytree with `init`, `step`
and `run`; `step.py`, `run.py`, `params.py` and the synapse files are its building blocks.
"""
