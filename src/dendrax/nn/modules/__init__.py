"""Network layers (Rockpool's ``rockpool.nn.modules`` path)."""

from dendrax.nn.modules.base import JaxModule, Module
from dendrax.nn.modules.expsyn import ExpSyn, ExpSynJax
from dendrax.nn.modules.instant import Instant, InstantJax
from dendrax.nn.modules.lif import LIF, LIFJax, step_pwl
from dendrax.nn.modules.linear import Linear, LinearJax
from dendrax.nn.modules.rate import Rate, RateJax

__all__ = [
    "Module",
    "JaxModule",
    "Linear",
    "LinearJax",
    "Instant",
    "InstantJax",
    "Rate",
    "RateJax",
    "LIF",
    "LIFJax",
    "ExpSyn",
    "ExpSynJax",
    "step_pwl",
]
