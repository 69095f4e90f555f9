"""Builder classes: Compartment, Branch, Cell, Network and views."""

from dendrax.modules.base import Module, View
from dendrax.modules.branch import Branch
from dendrax.modules.cell import Cell
from dendrax.modules.compartment import Compartment
from dendrax.modules.network import Network

__all__ = ["Module", "View", "Compartment", "Branch", "Cell", "Network"]
