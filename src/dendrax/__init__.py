"""dendrax: a differentiable simulator of biophysical neurons on JAX (Jaxley-compatible API)."""

from dendrax import channels, nn, optimize, pumps, solver_gate, synapses, training

# Loading the submodule binds `dendrax.__version__` to the module; this import rebinds the
# name to the string, as Jaxley does. Later imports find the submodule in sys.modules and
# leave the string in place, so both `jx.__version__` and `from dendrax.__version__ import
# __version__` work.
from dendrax.__version__ import __version__ as __version__
from dendrax.compiler import compile  # noqa: A004 - `dendrax.compile(module)`
from dendrax.connect import (  # `jx.connect` is the function, as in Jaxley
    connect,
    connectivity_matrix_connect,
    fully_connect,
    sparse_connect,
)
from dendrax.integrate import integrate
from dendrax.io.morphology import read_morphology
from dendrax.io.swc import read_swc
from dendrax.modules import Branch, Cell, Compartment, Module, Network, View
from dendrax.optimize import ParamTransform
from dendrax.simulator.cpu_loop_interleave import set_cpu_loop_interleave
from dendrax.simulator.simulator import Simulator
from dendrax.simulator.xla_options import compiler_options, cpu_threading, set_cpu_threading
from dendrax.stimulus import datapoint_to_step_currents, step_current

__all__ = [
    "Compartment",
    "Branch",
    "Cell",
    "Network",
    "Module",
    "View",
    "integrate",
    "compile",
    "Simulator",
    "compiler_options",
    "cpu_threading",
    "set_cpu_threading",
    "set_cpu_loop_interleave",
    "read_swc",
    "read_morphology",
    "ParamTransform",
    "pumps",
    "step_current",
    "datapoint_to_step_currents",
    "channels",
    "nn",
    "optimize",
    "training",
    "solver_gate",
    "synapses",
    "connect",
    "fully_connect",
    "sparse_connect",
    "connectivity_matrix_connect",
]

# Opt-in alias for unedited Jaxley-based libraries (see dendrax.compat).
if __import__("os").environ.get("DENDRAX_ALIAS_JAXLEY", "") not in ("", "0"):
    from dendrax.compat import alias_jaxley as _alias_jaxley

    _alias_jaxley()
