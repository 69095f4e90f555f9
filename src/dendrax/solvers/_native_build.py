"""How the compiled tree-solve kernel (`tree_solve.cc`) is built, in one place for both builds.

Two builds make the same library: the package build (`setup.py`, run by `pip install`), which
puts it beside this file with a manifest, and the first-use build of `native_tree`, which puts
it in a cache folder. `setup.py` loads this file by its path, before dendrax or JAX can be
imported (the build environment holds jaxlib and setuptools only), so it uses the standard
library only and imports jaxlib inside functions.

The library is a plain shared library (no Python module: it is loaded with ctypes and its
handlers are registered with `jax.ffi`); it is valid for the jaxlib whose FFI headers it was
compiled against, so the manifest records that jaxlib's version and the source's hash.
"""

from __future__ import annotations

import hashlib
import json
import platform
from pathlib import Path

#: The kernel's C++ source, package data beside this file.
SOURCE_NAME = "tree_solve.cc"
#: File names of the package build's library and its manifest, beside this file.
LIBRARY_NAME = "tree_solve_prebuilt.so"
MANIFEST_NAME = "tree_solve_prebuilt.json"
#: The FFI handler the library exports for each dtype (numpy dtype name: C symbol).
HANDLER_SYMBOLS = {"float64": "DendraxTreeSolveF64", "float32": "DendraxTreeSolveF32"}
#: The handler that solves the implicit system for the increment `v' - v` (`increment_solve.py`).
INCREMENT_SYMBOLS = {"float64": "DendraxIncrementSolveF64", "float32": "DendraxIncrementSolveF32"}
#: Every symbol the library exports.
EXPORTED_SYMBOLS = (*HANDLER_SYMBOLS.values(), *INCREMENT_SYMBOLS.values())
#: GCC/Clang flags of both builds. No `-march=native`: a library built on one machine stays
#: valid on another of the same platform, so neither the manifest nor the cache key needs
#: the CPU's features.
CXX_FLAGS = ("-O3", "-std=c++17")


def source_digest(source: str) -> str:
    """SHA-256 (hex) of the kernel's source text."""
    return hashlib.sha256(source.encode()).hexdigest()


def jaxlib_headers() -> tuple[str, str] | None:
    """(folder of jaxlib's FFI headers, jaxlib's version), or None where jaxlib is missing.

    The folder is the one `jax.ffi.include_dir()` names (`jaxlib/include`), found without
    importing JAX, which the package build does not have.
    """
    try:
        import jaxlib
    except ImportError:
        return None
    include = Path(next(iter(jaxlib.__path__))) / "include"
    if not (include / "xla" / "ffi" / "api" / "ffi.h").is_file():
        return None
    return str(include), str(jaxlib.__version__)


def manifest(source: str, jaxlib_version: str) -> dict:
    """What a library built from `source` against jaxlib `jaxlib_version` here is valid for."""
    return {
        "library": LIBRARY_NAME,
        "source_sha256": source_digest(source),
        "jaxlib": jaxlib_version,
        "machine": platform.machine(),
    }


def read_manifest(path: Path) -> dict | None:
    """The manifest stored at `path`, or None where it is missing or unreadable."""
    try:
        found = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def write_manifest(path: Path, source: str, jaxlib_version: str) -> None:
    """Store `manifest(source, jaxlib_version)` at `path` (JSON)."""
    Path(path).write_text(json.dumps(manifest(source, jaxlib_version), indent=1) + "\n")


def matching_library(directory: Path, source: str, jaxlib_version: str) -> Path | None:
    """The package build's library in `directory` if its manifest says it was built from
    `source` against jaxlib `jaxlib_version` on this machine type; else None."""
    directory = Path(directory)
    library = directory / LIBRARY_NAME
    found = read_manifest(directory / MANIFEST_NAME)
    if found != manifest(source, jaxlib_version) or not library.is_file():
        return None
    return library
