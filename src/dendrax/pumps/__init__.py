"""Ion pumps and concentration mechanisms, inserted like channels (`module.insert(...)`)."""

from dendrax.pumps.ca_pump import CaPump
from dendrax.pumps.faraday import CaFaradayConcentrationChange
from dendrax.pumps.nernst import CaNernstReversal
from dendrax.pumps.pump import Pump

__all__ = ["Pump", "CaPump", "CaFaradayConcentrationChange", "CaNernstReversal"]
