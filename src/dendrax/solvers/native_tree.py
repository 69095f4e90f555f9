"""Optional compiled tree solve: the node-by-node Hines elimination as an XLA FFI kernel.

The same elimination as `dendrax.solvers.tree._solve_sequential` (same order, same
arithmetic), written as a C++ handler of XLA's FFI (`jax.ffi`) and called once per solve:
one kernel instead of XLA's two loops. The handler (`tree_solve.cc`, package data) is
loaded from the first of: the library `pip install` compiled into the package (`setup.py`;
used only where its manifest names the running jaxlib and this source), the cache of
libraries compiled on first use with the C++ compiler on the machine (`$CXX`, else `c++`)
against the FFI headers that ship with jaxlib, in `$DENDRAX_NATIVE_CACHE` (default
`~/.cache/dendrax`). Where neither is there, or the backend is not a CPU, `NativeTreeSolver`
solves with the pure-JAX tree solve instead (`native_available()` says which,
`native_source()` where the kernel came from). The derivative is the tree solve's implicit
rule (`tree.implicit_primal_solve`), whose tangent and transposed solves call the kernel
too; under `vmap` the batch goes to the pure-JAX batched tree solve.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import jaxlib
import numpy as np

from dendrax.solvers import _native_build as build_info
from dendrax.solvers.interfaces import LinearSolver
from dendrax.solvers.reroot import centre_rooted_parents
from dendrax.solvers.tree import TreeOrder, _solve, build_tree_order, implicit_primal_solve

__all__ = ["NativeTreeSolver", "native_available", "native_source", "native_tree_solve"]

#: This package's folder: the source and the package build's library lie here.
_HERE = Path(__file__).parent
#: The handler's C++ source, shipped with the package (`tree_solve.cc` beside this file).
_SOURCE = (_HERE / build_info.SOURCE_NAME).read_text()

_TARGETS = {
    np.dtype(np.float64): "dendrax_tree_solve_f64",
    np.dtype(np.float32): "dendrax_tree_solve_f32",
}
#: FFI targets of the solve for the increment `v' - v` (`increment_solve.py`).
INCREMENT_TARGETS = {
    np.dtype(np.float64): "dendrax_increment_solve_f64",
    np.dtype(np.float32): "dendrax_increment_solve_f32",
}


def _cache_dir() -> Path:
    return Path(os.environ.get("DENDRAX_NATIVE_CACHE", Path.home() / ".cache" / "dendrax"))


def _prebuilt(directory: Path | None = None) -> Path | None:
    """The library `pip install` built into `directory` (default: this package's folder),
    if built from this source against the running jaxlib; else None."""
    directory = _HERE if directory is None else directory
    return build_info.matching_library(directory, _SOURCE, jaxlib.__version__)


def _build() -> Path | None:
    """Path of the handler library compiled on first use (compiled now if not cached), or None."""
    compiler = os.environ.get("CXX") or shutil.which("c++") or shutil.which("g++")
    if not compiler:
        return None
    include = jax.ffi.include_dir()
    versions = jax.__version__ + jaxlib.__version__
    key = hashlib.sha256((_SOURCE + include + versions).encode()).hexdigest()[:16]
    target = _cache_dir() / f"dendrax_tree_solve_{key}.so"
    if target.exists():
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError:  # no writable cache (read-only home): the pure-JAX solve is used
        return None
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / build_info.SOURCE_NAME
        source.write_text(_SOURCE)
        built = Path(tmp) / target.name
        command = [compiler, *build_info.CXX_FLAGS, "-shared", "-fPIC", "-I", include]
        try:
            result = subprocess.run(
                command + [str(source), "-o", str(built)], capture_output=True, text=True
            )
        except OSError:  # the compiler named by $CXX does not exist or cannot run
            return None
        if result.returncode != 0:
            return None
        try:
            os.replace(built, target)  # atomic: concurrent builds leave one complete file
        except OSError:
            return None
    return target


def _load(path: Path) -> ctypes.CDLL | None:
    """The library at `path` if it loads and exports every handler, else None."""
    try:
        library = ctypes.cdll.LoadLibrary(str(path))
        for symbol in build_info.EXPORTED_SYMBOLS:
            getattr(library, symbol)
    except (OSError, AttributeError):  # another platform's file, or an older kernel
        return None
    return library


def _register(library: ctypes.CDLL, targets: dict | None = None, increment_targets=None) -> None:
    """Register `library`'s handlers as the FFI targets `targets` (dtype: name; `_TARGETS`)
    and `increment_targets` (`INCREMENT_TARGETS`)."""
    for names, symbols in (
        (_TARGETS if targets is None else targets, build_info.HANDLER_SYMBOLS),
        (
            INCREMENT_TARGETS if increment_targets is None else increment_targets,
            build_info.INCREMENT_SYMBOLS,
        ),
    ):
        for dtype, name in names.items():
            symbol = getattr(library, symbols[dtype.name])
            jax.ffi.register_ffi_target(name, jax.ffi.pycapsule(symbol), platform="cpu")


@functools.cache
def _kernel() -> str | None:
    """Load and register the kernel once: "prebuilt" or "cache" (where it came from), or
    None where there is none (or the backend is not a CPU)."""
    if jax.default_backend() != "cpu":
        return None
    # The first-use build runs only where no usable prebuilt library is found.
    for origin, find in (("prebuilt", _prebuilt), ("cache", _build)):
        path = find()
        library = None if path is None else _load(path)
        if library is not None:
            _register(library)
            return origin
    return None


def native_available() -> bool:
    """Whether the compiled kernel is built and registered (CPU backend only)."""
    return _kernel() is not None


def native_source() -> str | None:
    """Where the kernel in use came from: "prebuilt" (compiled by `pip install` into the
    package), "cache" (compiled on first use into `$DENDRAX_NATIVE_CACHE`), or None (not
    available: the pure-JAX tree solve is used)."""
    return _kernel()


@functools.lru_cache(maxsize=64)
def _schedule(order: TreeOrder):
    """(schedule (3, n) int32, n_inner) of the kernel's node-by-node elimination.

    Rows: the elimination order (deepest first), each node's parent in it (a root names
    itself) and whether that edge is reversed against the matrix's own parent (see
    `tree_solve.cc`). Every tree is eliminated towards its centre (`centre_rooted_parents`),
    which shortens the chain of dependent steps where the morphology's root is far from it.
    """
    n = order.num_nodes
    matrix_parent = np.where(order.parent[:n] == n, -1, order.parent[:n])
    rooted, flipped = centre_rooted_parents(matrix_parent)
    levels = build_tree_order(rooted, batch_identical_trees=False).levels
    flat = levels[::-1].reshape(-1)
    nodes = flat[flat < n]
    parents = np.where(rooted[nodes] < 0, nodes, rooted[nodes])
    n_inner = int(np.sum(rooted >= 0))
    schedule = np.stack([nodes, parents, flipped[nodes]]).astype(np.int32)
    return schedule, n_inner


def _native_primal(order: TreeOrder, diag, upper, lower, rhs):
    schedule, n_inner = _schedule(order)
    shape = jax.ShapeDtypeStruct(rhs.shape, rhs.dtype)
    work = jax.ShapeDtypeStruct((2 * rhs.shape[0],), rhs.dtype)
    call = jax.ffi.ffi_call(_TARGETS[np.dtype(rhs.dtype)], (shape, work))
    x, _ = call(diag, upper, lower, rhs, schedule.reshape(-1), n_inner=np.int64(n_inner))
    return x


def native_tree_solve(order: TreeOrder, diag, upper, lower, rhs, upper_zero_at_roots=False):
    """`tree_solve` by the compiled kernel where available (same result and derivative)."""
    dtype = np.dtype(jnp.result_type(diag, upper, lower, rhs))
    if dtype not in _TARGETS or not native_available():
        primal = functools.partial(_solve, order)
        return implicit_primal_solve(order, primal, diag, upper, lower, rhs, upper_zero_at_roots)
    diag, upper, lower, rhs = (jnp.asarray(x, dtype) for x in (diag, upper, lower, rhs))

    @jax.custom_batching.custom_vmap
    def primal(d, u, l, b):
        return _native_primal(order, d, u, l, b)

    @primal.def_vmap
    def _primal_batched(axis_size, in_batched, d, u, l, b):
        axes = tuple(0 if batched else None for batched in in_batched)
        return jax.vmap(functools.partial(_solve, order), in_axes=axes)(d, u, l, b), True

    return implicit_primal_solve(order, primal, diag, upper, lower, rhs, upper_zero_at_roots)


@dataclass(frozen=True)
class NativeTreeSolver(LinearSolver):
    """The tree solve as a compiled FFI kernel (pure-JAX `tree` where it is not built)."""

    name = "tree.native"

    def solve(self, structure, diag, upper, lower, rhs, upper_zero_at_roots=False):
        return native_tree_solve(structure.tree, diag, upper, lower, rhs, upper_zero_at_roots)

    def sequential_iterations(self, structure) -> int:
        return 2 * int(structure.n_nodes)  # the same loops as `tree`, compiled
