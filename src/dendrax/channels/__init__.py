"""Ion channels: the `Channel` base class and built-in mechanisms."""

from dendrax.channels import hh_split
from dendrax.channels.cal import CaL
from dendrax.channels.cat import CaT
from dendrax.channels.channel import Channel
from dendrax.channels.hh import HH
from dendrax.channels.hh_split import HHK, HHLeak, HHNa
from dendrax.channels.k import K
from dendrax.channels.km import Km
from dendrax.channels.leak import Leak
from dendrax.channels.na import Na

__all__ = ["Channel", "HH", "Leak"]
__all__ += ["Na", "K", "Km", "CaL", "CaT", "hh_split", "HHNa", "HHK", "HHLeak"]

# Point neurons (network lane).
from dendrax.channels.adex import AdEx  # noqa: E402
from dendrax.channels.fire import Fire  # noqa: E402
from dendrax.channels.izhikevich import Izhikevich  # noqa: E402
from dendrax.channels.rate import Rate  # noqa: E402

__all__ += ["Fire", "Izhikevich", "AdEx", "Rate"]
