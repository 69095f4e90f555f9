"""Mixin: the builder's public read API and its one version counter.

Code outside `dendrax.modules` reads a module through these (never through its private
attributes): `tables` (the base module's tables, read-only), `node_indices` and
`edge_indices` (what a view selects), `version` (bumped by every mutation), and builds
modules with `from_tables`. Writes go through the builder's named methods (`set`,
`insert`, `connect`, ...), each of which bumps `version`.
"""

from __future__ import annotations

import numpy as np

from dendrax.modules.construct import new_module
from dendrax.modules.export import model_tables

__all__ = ["FacadeMixin"]


class FacadeMixin:
    """`version`, `tables`, `node_indices`, `edge_indices`, `loc_at`, `from_tables`."""

    def _touch(self, layout: bool = False) -> None:
        """Record a mutation of the base module: `version` goes up by one.

        `layout=True` marks a change of what the compiled `Structure` depends on (rows,
        columns, mechanisms, synapses); value changes (`set`, inputs, trainables) keep the
        cached structure. Every compiled `Simulator` cached on the module is dropped.
        """
        base = self.base
        base._version += 1
        if layout:
            base._layout_version = base._version
            base._sim_cache = None
        base._compile_cache = None

    @property
    def version(self) -> int:
        """The structure version of the base module: an int that every mutating call (`set`,
        `insert`, `connect`, `make_trainable`, `record`, `stimulate`, `clamp`, their
        deletes, `set_ncomp`, diffusion, ...) increases. Views share their base's version.
        `dendrax.compile` caches its result on it."""
        return int(self.base._version)

    @property
    def tables(self):
        """The base module's tables as a read-only `ModelTables` (no copy: later builder
        calls may change the arrays; `dendrax.compile` takes a frozen snapshot)."""
        return model_tables(self, copy=False)

    @property
    def node_indices(self) -> np.ndarray:
        """(k,) int64 global indices of the compartments in view (rows of `tables.nodes`)."""
        out = np.asarray(self._inds, dtype=np.int64).view()
        out.flags.writeable = False
        return out

    @property
    def edge_indices(self) -> np.ndarray:
        """(k,) int64 global indices of the synapses in view (rows of `tables.edges`)."""
        out = np.asarray(self._edge_view_inds(), dtype=np.int64).view()
        out.flags.writeable = False
        return out

    @property
    def loc_at(self):
        """The position in [0, 1] a one-position `loc(x)` view was made with, else None."""
        return self.__dict__.get("_loc_at")

    @classmethod
    def from_tables(cls, *, like=None, **tables):
        """A new base module of this class with the given tables.

        Keyword arguments: `nodes`, `branch_parents`, `ncomp_per_branch`, `branch_cell`
        (required), `channels`, `groups`, `xyzr`, `frustum`, `synapses`, `edges` (see
        `dendrax.modules.construct`); index columns are recomputed, arrays copied. With
        `like` (a module), its non-table attributes (e.g. diffusing states) are copied.
        """
        return new_module(cls, like=None if like is None else like.base, **tables)
