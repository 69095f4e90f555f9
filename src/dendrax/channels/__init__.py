"""Ion channels: the `Channel` base class and built-in mechanisms."""

from dendrax.channels.channel import Channel
from dendrax.channels.hh import HH
from dendrax.channels.leak import Leak

__all__ = ["Channel", "HH", "Leak"]
