"""The Pospischil et al. (2008) channel family under its Jaxley module path.

Jaxley keeps `Leak`, `Na`, `K`, `Km`, `CaL` and `CaT` in `jaxley.channels.pospischil`;
dendrax implements each in its own module, and this module offers them (and the gate helpers
`efun` and `boltzmann`) under that path, so `from dendrax.channels.pospischil import Na` works.
"""

from dendrax.channels._pospischil import boltzmann, efun
from dendrax.channels.cal import CaL
from dendrax.channels.cat import CaT
from dendrax.channels.k import K
from dendrax.channels.km import Km
from dendrax.channels.leak import Leak
from dendrax.channels.na import Na

__all__ = ["Leak", "Na", "K", "Km", "CaL", "CaT", "efun", "boltzmann"]
