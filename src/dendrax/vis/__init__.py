"""Plotting of morphologies with matplotlib (an optional dependency, imported lazily)."""

from .plot import plot_branches, plot_compartments, plot_morph, plot_synapses

__all__ = ["plot_branches", "plot_compartments", "plot_morph", "plot_synapses"]
